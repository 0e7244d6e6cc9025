package io.vfu.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What this build of the server is: the Maven version and the git commit it was built from, as Maven wrote them
 * into {@code build.properties} at build time. A value Maven could not fill in (a build without {@code .git},
 * or classes compiled outside Maven) reads as {@value #UNKNOWN}.
 *
 * @param version the Maven project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit  the first 12 hex digits of the commit id (bin/vfu-server answers the same from git)
 */
public record BuildInfo(String version, String commit) {

    /** What a value reads as when the build could not tell it. */
    public static final String UNKNOWN = "unknown";

    private static final BuildInfo CURRENT = load();

    /** This build's version and commit. */
    public static BuildInfo current() {
        return CURRENT;
    }

    /** The version line {@code --version} prints: {@code vfu-server 0.1.0-SNAPSHOT (commit 0123456789ab)}. */
    public String line() {
        return "vfu-server " + version + " (commit " + commit + ")";
    }

    /** Reads {@code props} as written by the filtered resource; unfilled or missing values are unknown. */
    static BuildInfo of(Properties props) {
        String commit = value(props, "commit");
        return new BuildInfo(value(props, "version"), commit.length() > 12 ? commit.substring(0, 12) : commit);
    }

    private static String value(Properties props, String key) {
        String v = props.getProperty(key, "").trim();
        // Rule: a placeholder Maven left unfilled ("${...}") is not a value.
        return v.isEmpty() || v.startsWith("${") ? UNKNOWN : v;
    }

    private static BuildInfo load() {
        Properties props = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return of(props);
    }
}
