package dev.concord.service.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.concord.service.core.ServiceFailure;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads request bodies strictly and writes responses: a body must be one JSON object whose fields are all known
 * and of the right type (no string-to-number coercion, no duplicate keys, nothing after the object), at most the
 * configured size. Every violation is a 400 problem naming the field, or 413 for size, or 415 for a body that is
 * not JSON.
 */
public final class JsonBodies {
    private final ObjectMapper reader;
    private final ObjectMapper writer;
    private final long maxBodyBytes;

    /** Mappers for a body limit of {@code maxBodyBytes}. */
    public JsonBodies(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
        this.reader = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .build();
        this.writer = JsonMapper.builder()
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .build();
    }

    /** The mapper responses are written with (nulls left out). */
    public ObjectMapper writer() {
        return writer;
    }

    /** The body limit in bytes. */
    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    /**
     * Reads a body.
     *
     * @param in          the entity stream
     * @param contentType the request's content type, or null
     * @param required    false when an empty body means "all defaults" (then null is returned)
     */
    public <T> T read(InputStream in, MediaType contentType, Class<T> type, boolean required) {
        byte[] body = readLimited(in);
        if (body.length == 0 || isBlank(body)) {
            if (required) {
                throw ServiceFailure.invalid("body", "a JSON object is required as the request body");
            }
            return null;
        }
        if (contentType != null && !isJson(contentType)) {
            throw new NotSupportedException("send the body as application/json");
        }
        try {
            T value = reader.readValue(body, type);
            if (value == null) {
                if (required) {
                    throw ServiceFailure.invalid("body", "the request body must be a JSON object, not null");
                }
                return null;
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            Collection<Object> known = e.getKnownPropertyIds();
            String list = known == null ? "" : known.stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", "));
            throw ServiceFailure.invalid(e.getPropertyName(), "unknown field '" + e.getPropertyName() + "'"
                    + (list.isEmpty() ? "; this body takes no fields" : "; known fields: " + list));
        } catch (MismatchedInputException e) {
            String field = fieldOf(e);
            if (field == null) {
                throw ServiceFailure.invalid("body", "the request body must be a JSON object");
            }
            throw ServiceFailure.invalid(field, "field '" + field + "' has the wrong type or value ("
                    + shortMessage(e) + ")");
        } catch (JsonMappingException e) {
            String field = fieldOf(e);
            throw ServiceFailure.invalid(field == null ? "body" : field, "the request body does not fit: "
                    + shortMessage(e));
        } catch (JsonProcessingException e) {
            throw new ServiceFailure(ServiceFailure.Kind.INVALID_REQUEST, "malformed JSON"
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr()) + ": " + shortMessage(e), Map.of("field", "body"), null);
        } catch (IOException e) {
            throw ServiceFailure.invalid("body", "the request body could not be read");
        }
    }

    private byte[] readLimited(InputStream in) {
        if (in == null) {
            return new byte[0];
        }
        try {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
            if (body.length > maxBodyBytes) {
                throw new PayloadTooLargeException(maxBodyBytes);
            }
            return body;
        } catch (IOException e) {
            throw ServiceFailure.invalid("body", "the request body could not be read: " + e.getMessage());
        }
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    static boolean isJson(MediaType t) {
        return t.isWildcardType()
                || ("application".equalsIgnoreCase(t.getType())
                && ("json".equalsIgnoreCase(t.getSubtype()) || t.getSubtype().toLowerCase().endsWith("+json")));
    }

    private static String fieldOf(JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        if (path == null || path.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private static String shortMessage(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            return "unreadable";
        }
        int nl = m.indexOf('\n');
        m = nl >= 0 ? m.substring(0, nl) : m;
        return m.length() > 200 ? m.substring(0, 200) + "..." : m;
    }
}
