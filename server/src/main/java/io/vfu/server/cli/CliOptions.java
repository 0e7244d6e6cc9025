package io.vfu.server.cli;

import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Command-line options of {@code vfu-server}. Exactly one of {@code --socket} and {@code --config} is given
 * (or {@code --help}). The spec's backend-program convention name {@code --socket-path} is accepted as an alias.
 * The socket access options belong to the {@code --socket} form; a config file has its own keys for them.
 *
 * @param socket      serve the built-in default device on this socket path
 * @param config      serve the devices of this JSON file
 * @param metricsPort expose Prometheus metrics on this loopback port, if present
 * @param metricsHost address the metrics endpoint binds to (loopback unless set)
 * @param help        print usage and exit
 * @param socketMode  mode of the {@code --socket} file (default 0600)
 * @param socketGroup group of the {@code --socket} file (default the server's)
 * @param allowUids   peer uids served besides the server's own
 * @param allowGids   peer effective gids served
 */
public record CliOptions(Optional<Path> socket, Optional<Path> config, Optional<Integer> metricsPort,
                         String metricsHost, boolean help, Optional<SocketMode> socketMode,
                         Optional<SocketGroup> socketGroup, List<Long> allowUids, List<Long> allowGids) {

    public static final String USAGE = """
            Usage: vfu-server (--socket PATH | --config FILE) [--metrics-port N] [--metrics-host ADDR]
                              [--socket-mode MODE] [--socket-group GROUP] [--allow-uid UIDS] [--allow-gid GIDS]
              --socket PATH, --socket-path=PATH
                                  serve the built-in default device on the Unix socket PATH
              --config FILE       serve the devices described in the JSON file FILE, each on its own socket
              --metrics-port N    expose Prometheus metrics at http://ADDR:N/metrics (0 picks a free port)
              --metrics-host ADDR address for the metrics endpoint (default 127.0.0.1)
              --socket-mode MODE  octal mode of the socket file: 0600 (default), 0660 (its group may
                                  connect) or 0666 (anyone may connect)
              --socket-group GROUP
                                  group name or numeric gid of the socket file (default the server's group)
              --allow-uid UIDS    also serve peers running as these uids (comma list; repeatable)
              --allow-gid GIDS    also serve peers whose effective gid is one of these (comma list;
                                  repeatable); supplementary groups are not consulted
              --help              print this help
            The socket options apply to --socket; a --config file sets socketMode, socketGroup, allowedUids
            and allowedGids instead. A peer is served if it runs as the server's uid, an allowed uid or an
            allowed gid; others are disconnected unserved. Another user's QEMU needs both a mode that lets
            it connect and an allowed uid or gid, e.g. --socket-mode 0660 --socket-group 107 --allow-gid 107.
            The server prints a line starting with "vfu-server ready" on stdout once every socket listens,
            and removes its sockets on SIGTERM.
            """;


    public CliOptions {
        allowUids = List.copyOf(allowUids);
        allowGids = List.copyOf(allowGids);
    }

    /** Parses {@code args}; a usage error is an {@link IllegalArgumentException} whose message says what. */
    public static CliOptions parse(String... args) {
        Path socket = null;
        Path config = null;
        Integer metricsPort = null;
        String metricsHost = "127.0.0.1";
        boolean help = false;
        SocketMode socketMode = null;
        SocketGroup socketGroup = null;
        List<Long> allowUids = new ArrayList<>();
        List<Long> allowGids = new ArrayList<>();
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
                case "--socket-mode" -> socketMode = SocketMode.parse(value(args, i, inline, name));
                case "--socket-group" -> socketGroup = new SocketGroup(value(args, i, inline, name));
                case "--allow-uid" -> ids(value(args, i, inline, name), name, allowUids);
                case "--allow-gid" -> ids(value(args, i, inline, name), name, allowGids);
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
            // Rule: a config file states its own access; two sources could disagree without anyone noticing.
            if (config != null && (socketMode != null || socketGroup != null || !allowUids.isEmpty()
                    || !allowGids.isEmpty())) {
                throw new IllegalArgumentException("--socket-mode, --socket-group, --allow-uid and --allow-gid "
                        + "go with --socket; with --config set socketMode, socketGroup, allowedUids and "
                        + "allowedGids in the file");
            }
        }
        return new CliOptions(Optional.ofNullable(socket), Optional.ofNullable(config),
                Optional.ofNullable(metricsPort), metricsHost, help, Optional.ofNullable(socketMode),
                Optional.ofNullable(socketGroup), allowUids, allowGids);
    }

    /** The {@code --socket} form's configuration: the default device with these access options. */
    public ServerConfig singleDeviceConfig() {
        return ServerConfig.single(socket.orElseThrow(() -> new IllegalStateException("no --socket")), allowUids,
                allowGids, socketMode.orElse(null), socketGroup.orElse(null));
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

    /** Adds each id of a comma list such as {@code 107,1000} to {@code into}. */
    private static void ids(String list, String name, List<Long> into) {
        for (String part : list.split(",", -1)) {
            long id;
            try {
                id = Long.parseLong(part.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " takes numeric ids: " + list);
            }
            // Rule: an id is a u32 other than (id_t) -1; anything else can never match a peer.
            if (id < 0 || id > PeerPolicy.MAX_ID) {
                throw new IllegalArgumentException(name + " id out of range: " + id);
            }
            into.add(id);
        }
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
