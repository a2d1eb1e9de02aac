package dev.concord.service.http;

import dev.concord.service.config.Scope;
import dev.concord.service.config.ServiceConfig;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.DynamicFeature;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.FeatureContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.lang.reflect.Method;
import java.security.Principal;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer-token authentication and scope checks, attached to every resource method by its {@link Access}: open
 * endpoints get no filter; the others need {@code Authorization: Bearer <token>} of a configured token (401
 * otherwise, with {@code WWW-Authenticate: Bearer}) whose scope covers the endpoint's (403 otherwise). The token's
 * name becomes the request's principal, which the audit log records as "who".
 */
public final class AuthorizationFeature implements DynamicFeature {
    private final TokenAuthenticator authenticator;

    public AuthorizationFeature(TokenAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public void configure(ResourceInfo resourceInfo, FeatureContext context) {
        Access access = accessOf(resourceInfo.getResourceMethod(), resourceInfo.getResourceClass());
        if (access != null && access.open()) {
            return;
        }
        Scope required = access == null ? Scope.CLIENT : access.value();
        context.register(new Filter(authenticator, required));
    }

    /** The {@link Access} that applies to a method: its own, else its class's, else null. */
    public static Access accessOf(Method method, Class<?> type) {
        Access a = method == null ? null : method.getAnnotation(Access.class);
        return a != null ? a : type == null ? null : type.getAnnotation(Access.class);
    }

    @Priority(Priorities.AUTHENTICATION)
    private static final class Filter implements ContainerRequestFilter {
        private final TokenAuthenticator authenticator;
        private final Scope required;

        Filter(TokenAuthenticator authenticator, Scope required) {
            this.authenticator = authenticator;
            this.required = required;
        }

        @Override
        public void filter(ContainerRequestContext request) {
            String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
            if (header == null || header.isBlank()) {
                request.abortWith(unauthorized("this endpoint needs a bearer token: send Authorization: Bearer <token>"));
                return;
            }
            String h = header.trim();
            if (h.length() < 7 || !h.substring(0, 7).equalsIgnoreCase("Bearer ")) {
                request.abortWith(unauthorized("only bearer tokens are accepted: send Authorization: Bearer <token>"));
                return;
            }
            Optional<ServiceConfig.Token> token = authenticator.authenticate(h.substring(7).trim());
            if (token.isEmpty()) {
                request.abortWith(unauthorized("the bearer token is not valid"));
                return;
            }
            ServiceConfig.Token t = token.get();
            if (!t.scope().covers(required)) {
                request.abortWith(Problems.response(ProblemType.FORBIDDEN, 403, "token '" + t.name() + "' has scope "
                        + t.scope().configName() + "; this endpoint needs scope " + required.configName(), Map.of()));
                return;
            }
            boolean secure = request.getSecurityContext() != null && request.getSecurityContext().isSecure();
            request.setSecurityContext(new TokenSecurityContext(t, secure));
        }

        private static Response unauthorized(String detail) {
            return Response.fromResponse(Problems.response(ProblemType.UNAUTHORIZED, 401, detail, Map.of()))
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"concord\"").build();
        }
    }

    /** The caller, as the token it presented. */
    private record TokenSecurityContext(ServiceConfig.Token token, boolean secure) implements SecurityContext {
        @Override
        public Principal getUserPrincipal() {
            return token::name;
        }

        @Override
        public boolean isUserInRole(String role) {
            try {
                return token.scope().covers(Scope.parse(role));
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        @Override
        public boolean isSecure() {
            return secure;
        }

        @Override
        public String getAuthenticationScheme() {
            return "Bearer";
        }
    }
}
