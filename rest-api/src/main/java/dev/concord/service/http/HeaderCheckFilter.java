package dev.concord.service.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Checks the headers Jersey parses while it picks a resource method. Jersey answers an unparsable one (say
 * {@code Content-Type: garbage/}) with a bare 400 that no exception mapper sees; this filter answers first, with a
 * problem that names the header (415 for the content type, 400 for the others).
 */
@PreMatching
@Priority(20)
public final class HeaderCheckFilter implements ContainerRequestFilter {
    @Override
    public void filter(ContainerRequestContext request) {
        try {
            request.getMediaType();
        } catch (RuntimeException e) {
            request.abortWith(Problems.response(ProblemType.UNSUPPORTED_MEDIA_TYPE, 415,
                    "the Content-Type header is not a media type; send application/json", Map.of()));
            return;
        }
        check(request, HttpHeaders.ACCEPT, ContainerRequestContext::getAcceptableMediaTypes);
        check(request, HttpHeaders.ACCEPT_LANGUAGE, ContainerRequestContext::getAcceptableLanguages);
        check(request, HttpHeaders.CONTENT_LANGUAGE, ContainerRequestContext::getLanguage);
        check(request, HttpHeaders.COOKIE, ContainerRequestContext::getCookies);
        check(request, HttpHeaders.DATE, ContainerRequestContext::getDate);
    }

    private static void check(ContainerRequestContext request, String header, Consumer<ContainerRequestContext> parse) {
        if (request.getHeaderString(header) == null) {
            return;
        }
        try {
            parse.accept(request);
        } catch (RuntimeException e) {
            request.abortWith(Problems.response(ProblemType.BAD_REQUEST, 400, "the " + header
                    + " header cannot be parsed", Map.of("header", header)));
        }
    }
}
