package dev.concord.service.http;

import dev.concord.service.config.Scope;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scope an endpoint needs, on a resource class or method (the method's wins). Endpoints without it need a
 * {@link Scope#CLIENT} token; {@link #open()} endpoints need none.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Access {
    /** The scope a token needs. */
    Scope value() default Scope.CLIENT;

    /** True for endpoints anyone may call (health, metrics, the OpenAPI document). */
    boolean open() default false;
}
