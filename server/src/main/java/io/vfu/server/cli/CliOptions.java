package io.vfu.server.cli;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Command-line options of {@code vfu-server}. Exactly one of {@code --socket} and {@code --config} is given
 * (or {@code --help}). The spec's backend-program convention name {@code --socket-path} is accepted as an alias.
 *
 * @param socket      serve the built-in default device on this socket path
 * @param config      serve the devices of this JSON file
 * @param metricsPort expose Prometheus metrics on this loopback port, if present
 * @param metricsHost address the metrics endpoint binds to (loopback unless set)
 * @param help        print usage and exit
 */
public record CliOptions(Optional<Path> socket, Optional<Path> config, Optional<Integer> metricsPort,
                         String metricsHost, boolean help) {

    public static final String USAGE = """
            Usage: vfu-server (--socket PATH | --config FILE) [--metrics-port N] [--metrics-host ADDR]
              --socket PATH, --socket-path=PATH
                                  serve the built-in default device on the Unix socket PATH
              --config FILE       serve the devices described in the JSON file FILE, each on its own socket
              --metrics-port N    expose Prometheus metrics at http://ADDR:N/metrics (0 picks a free port)
              --metrics-host ADDR address for the metrics endpoint (default 127.0.0.1)
              --help              print this help
            The server prints a line starting with "vfu-server ready" on stdout once every socket listens,
            and removes its sockets on SIGTERM.
            """;

    /** Parses {@code args}; a usage error is an {@link IllegalArgumentException} whose message says what. */
    public static CliOptions parse(String... args) {
        Path socket = null;
        Path config = null;
        Integer metricsPort = null;
        String metricsHost = "127.0.0.1";
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help", "-h" -> help = true;
                case "--socket", "--socket-path" -> socket = Path.of(value(args, i, inline, name));
                case "--config" -> config = Path.of(value(args, i, inline, name));
                case "--metrics-port" -> metricsPort = port(value(args, i, inline, name));
                case "--metrics-host" -> metricsHost = value(args, i, inline, name);
                default -> throw new IllegalArgumentException("unknown option: " + arg);
            }
            if (inline == null && !name.equals("--help") && !name.equals("-h")) {
                i++;
            }
        }
        if (!help) {
            // Rule: one device source, never both and never none.
            if (socket == null && config == null) {
                throw new IllegalArgumentException("one of --socket or --config is required");
            }
            if (socket != null && config != null) {
                throw new IllegalArgumentException("--socket and --config are mutually exclusive");
            }
        }
        return new CliOptions(Optional.ofNullable(socket), Optional.ofNullable(config),
                Optional.ofNullable(metricsPort), metricsHost, help);
    }

    private static String value(String[] args, int i, String inline, String name) {
        if (inline != null) {
            return inline;
        }
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i + 1];
    }

    private static int port(String s) {
        int p;
        try {
            p = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--metrics-port must be a number: " + s);
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("--metrics-port out of range: " + p);
        }
        return p;
    }
}
