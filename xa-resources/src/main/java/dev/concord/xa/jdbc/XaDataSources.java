package dev.concord.xa.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.XADataSource;

/**
 * Builds the {@link XADataSource} of a {@link JdbcResourceConfig}: loads the class, then sets the URL, the
 * credentials, the connect timeout and every extra property through the class's JavaBean setters.
 *
 * <p>The injection is strict: an unknown property, a value that does not convert to the setter's type, or a
 * setter that throws is an {@link IllegalArgumentException} naming the property. Values of secret properties never
 * appear in messages.
 */
final class XaDataSources {
    private static final Set<String> MANAGED = Set.of("url", "user", "password", "connecttimeout", "logintimeout");

    private XaDataSources() {
    }

    /** True for the property names the resource's own settings own (compared ignoring case). */
    static boolean isManaged(String propertyName) {
        return MANAGED.contains(propertyName.toLowerCase(Locale.ROOT));
    }

    /**
     * The driver properties besides URL, user and password: the type's connect-timeout properties, then the
     * configured extras.
     */
    static Map<String, String> driverProperties(JdbcResourceConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        switch (config.type()) {
            case MYSQL -> out.put("connectTimeout", Long.toString(config.connectTimeout().toMillis()));
            case POSTGRESQL -> {
                out.put("connectTimeout", Integer.toString(seconds(config.connectTimeout())));
                out.put("loginTimeout", Integer.toString(seconds(config.connectTimeout())));
            }
            case GENERIC -> {
                // Only the standard CommonDataSource#setLoginTimeout applies; see create().
            }
        }
        out.putAll(config.properties());
        return out;
    }

    /** Whole seconds, rounded up, at least 1: JDBC login timeouts are in seconds and 0 means "none". */
    static int seconds(Duration d) {
        long s = (d.toMillis() + 999) / 1000;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
    }

    /**
     * A new, configured XADataSource; opens no connection.
     *
     * @throws IllegalArgumentException when the class cannot be used or a property cannot be set
     */
    static XADataSource create(JdbcResourceConfig config) {
        String where = "resource '" + config.name() + "': ";
        Class<?> cls = load(config.dataSourceClassName(), where);
        XADataSource ds;
        try {
            ds = (XADataSource) cls.getConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException(where + "cannot instantiate " + cls.getName() + ": " + cause, cause);
        }
        try {
            ds.setLoginTimeout(seconds(config.connectTimeout()));
        } catch (java.sql.SQLException | RuntimeException e) {
            // Optional for drivers (mysql-connector-j ignores it); the type-specific connect timeout applies.
        }
        if (config.url() != null) {
            if (setterOf(cls, "url") != null) {
                set(ds, "url", config.url(), where);
            } else if (setterOf(cls, "URL") != null) {
                set(ds, "URL", config.url(), where);
            } else {
                throw new IllegalArgumentException(where + cls.getName() + " has no url property; leave url empty "
                        + "and give the connection settings as properties (settable: " + settable(cls) + ")");
            }
        }
        if (config.user() != null) {
            set(ds, "user", config.user(), where);
        }
        if (config.password() != null) {
            set(ds, "password", config.password(), where);
        }
        driverProperties(config).forEach((k, v) -> set(ds, k, v, where));
        return ds;
    }

    /** The configured XADataSource class, loaded and checked. */
    static Class<?> dataSourceClass(JdbcResourceConfig config) {
        return load(config.dataSourceClassName(), "resource '" + config.name() + "': ");
    }

    private static Class<?> load(String className, String where) {
        Class<?> cls = null;
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        for (ClassLoader loader : new ClassLoader[] {context, XaDataSources.class.getClassLoader()}) {
            if (loader == null || cls != null) {
                continue;
            }
            try {
                cls = Class.forName(className, false, loader);
            } catch (ClassNotFoundException e) {
                // try the next loader
            }
        }
        if (cls == null) {
            throw new IllegalArgumentException(where + "XADataSource class " + className + " is not on the class path");
        }
        if (!XADataSource.class.isAssignableFrom(cls) || Modifier.isAbstract(cls.getModifiers())) {
            throw new IllegalArgumentException(where + className + " is not a concrete javax.sql.XADataSource");
        }
        return cls;
    }

    /** Sets one bean property. */
    static void set(Object target, String property, String value, String where) {
        Method setter = setterOf(target.getClass(), property);
        String shown = JdbcResourceConfig.isSecret(property) ? "****" : "'" + value + "'";
        if (setter == null) {
            throw new IllegalArgumentException(where + target.getClass().getName() + " has no property '" + property
                    + "' (settable: " + settable(target.getClass()) + ")");
        }
        Object converted;
        try {
            converted = convert(value, setter.getParameterTypes()[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + "property '" + property + "' needs a "
                    + setter.getParameterTypes()[0].getSimpleName() + ", got " + shown, e);
        }
        try {
            setter.invoke(target, converted);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException(where + "property '" + property + "' refused " + shown + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException(where + "property '" + property + "' cannot be set: " + e.getMessage(), e);
        }
    }

    /**
     * The public one-argument setter {@code set<Property>} with a type a string converts to; a String setter wins
     * over other overloads, and a deprecated one loses.
     */
    static Method setterOf(Class<?> cls, String property) {
        String name = "set" + Character.toUpperCase(property.charAt(0)) + property.substring(1);
        List<Method> candidates = new ArrayList<>();
        for (Method m : cls.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 1 && convertible(m.getParameterTypes()[0])) {
                candidates.add(m);
            }
        }
        candidates.sort((a, b) -> Integer.compare(rank(a), rank(b)));
        return candidates.isEmpty() ? null : candidates.get(0);
    }

    private static int rank(Method m) {
        int r = m.getParameterTypes()[0] == String.class ? 0 : 2;
        return r + (m.isAnnotationPresent(Deprecated.class) ? 4 : 0);
    }

    private static Set<String> settable(Class<?> cls) {
        Set<String> names = new TreeSet<>();
        for (Method m : cls.getMethods()) {
            if (m.getName().startsWith("set") && m.getName().length() > 3 && m.getParameterCount() == 1
                    && convertible(m.getParameterTypes()[0])) {
                String n = m.getName().substring(3);
                names.add(Character.toLowerCase(n.charAt(0)) + n.substring(1));
            }
        }
        return names;
    }

    private static boolean convertible(Class<?> t) {
        return t == String.class || t == int.class || t == Integer.class || t == long.class || t == Long.class
                || t == boolean.class || t == Boolean.class || t == short.class || t == Short.class
                || t == double.class || t == Double.class || t == float.class || t == Float.class;
    }

    private static Object convert(String v, Class<?> t) {
        String s = v.trim();
        if (t == String.class) {
            return v;
        } else if (t == int.class || t == Integer.class) {
            return Integer.valueOf(s);
        } else if (t == long.class || t == Long.class) {
            return Long.valueOf(s);
        } else if (t == short.class || t == Short.class) {
            return Short.valueOf(s);
        } else if (t == double.class || t == Double.class) {
            return Double.valueOf(s);
        } else if (t == float.class || t == Float.class) {
            return Float.valueOf(s);
        } else if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.valueOf(s);
        }
        throw new IllegalArgumentException("not a boolean (true or false)");
    }
}
