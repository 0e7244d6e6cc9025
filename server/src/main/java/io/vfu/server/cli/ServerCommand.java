package io.vfu.server.cli;

import io.vfu.server.BuildInfo;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code vfu-server} command line (picocli): options, their environment defaults, and the rules between
 * them. Exit codes: 0 after {@code --help} or {@code --version} (and on a clean stop), {@value #USAGE} for a
 * usage error (the message, a suggestion for a mistyped option, and where to find help go to stderr), and
 * {@value #FAILURE} when the server cannot start (the reason goes to stderr).
 *
 * <p>An option given on the command line always wins over its environment variable; of the two device
 * sources, one given on the command line also wins over the other's environment variable.
 */
@Command(name = "vfu-server", mixinStandardHelpOptions = true, versionProvider = ServerCommand.Version.class,
        sortOptions = false, usageHelpWidth = 100,
        synopsisHeading = "Usage: ",
        customSynopsis = {
                "vfu-server (--socket PATH | --config FILE) [--metrics-port N] [--metrics-host ADDR]",
                "                  [--socket-mode MODE] [--socket-group GROUP] [--allow-uid UIDS]...",
                "                  [--allow-gid GIDS]... [--poll-max-us N] [--log-level LEVEL]",
                "                  [--log-format FORMAT] [--trace]",
                "       vfu-server --help | --version"},
        description = {"", "Serves emulated PCI devices to QEMU's vfio-user-pci, each on its own Unix socket.", ""},
        optionListHeading = "Options:%n",
        footerHeading = "%n",
        footer = {
                "The socket options apply to --socket; a --config file sets socketMode, socketGroup, allowedUids",
                "and allowedGids instead (every key: docs/configuration.md). A peer is served if it runs as the",
                "server's uid, an allowed uid or an allowed gid; others are disconnected unserved. Another user's",
                "QEMU needs both a mode that lets it connect and an allowed uid or gid, e.g.",
                "--socket-mode 0660 --socket-group 107 --allow-gid 107.",
                "The server prints a line starting with \"vfu-server ready\" on stdout once every socket listens,",
                "and removes its sockets on SIGTERM.",
                "",
                "Environment: VFU_SOCKET, VFU_CONFIG, VFU_METRICS_PORT, VFU_METRICS_HOST, VFU_POLL_MAX_US,",
                "VFU_LOG_LEVEL and VFU_LOG_FORMAT stand for the options of the same name when those are not given.",
                "",
                "Exit status: 0 after --help or --version, 2 for a usage error, 1 when the server cannot start",
                "(the reason is on stderr), 143 after SIGTERM."})
public final class ServerCommand implements Callable<Integer> {

    /** Exit code of a usage error (an unknown option, a bad value, a missing or doubled device source). */
    public static final int USAGE = 2;
    /** Exit code when the server cannot start (a bad config file, a socket that cannot be bound, ...). */
    public static final int FAILURE = 1;

    /** Runs the server the options describe; returns the exit code once it has stopped. */
    @FunctionalInterface
    public interface Runner {
        int run(CliOptions options) throws Exception;
    }

    @Spec
    private CommandSpec spec;

    @Option(names = {"--socket", "--socket-path"}, paramLabel = "PATH", defaultValue = "${env:VFU_SOCKET}",
            description = "serve the built-in default device on the Unix socket PATH (env VFU_SOCKET); "
                    + "--socket-path is the vfio-user spec's name for it")
    private Path socket;

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:VFU_CONFIG}",
            description = "serve the devices described in the JSON file FILE, each on its own socket (env VFU_CONFIG)")
    private Path config;

    @Option(names = "--metrics-port", paramLabel = "N", defaultValue = "${env:VFU_METRICS_PORT}",
            converter = PortConverter.class,
            description = "expose Prometheus metrics at http://ADDR:N/metrics; 0 picks a free port (env VFU_METRICS_PORT)")
    private Integer metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDR", defaultValue = "${env:VFU_METRICS_HOST:-127.0.0.1}",
            description = "address for the metrics endpoint (default 127.0.0.1; env VFU_METRICS_HOST)")
    private String metricsHost;

    @Option(names = "--socket-mode", paramLabel = "MODE", converter = ModeConverter.class,
            description = "octal mode of the socket file: 0600 (default), 0660 (its group may connect) or "
                    + "0666 (anyone may connect)")
    private SocketMode socketMode;

    @Option(names = "--socket-group", paramLabel = "GROUP", converter = GroupConverter.class,
            description = "group name or numeric gid of the socket file (default the server's group)")
    private SocketGroup socketGroup;

    @Option(names = "--allow-uid", paramLabel = "UIDS", split = ",", converter = IdConverter.class,
            description = "also serve peers running as these uids (comma list; repeatable)")
    private List<Long> allowUids = new ArrayList<>();

    @Option(names = "--allow-gid", paramLabel = "GIDS", split = ",", converter = IdConverter.class,
            description = "also serve peers whose effective gid is one of these (comma list; repeatable); "
                    + "supplementary groups are not consulted")
    private List<Long> allowGids = new ArrayList<>();

    @Option(names = "--poll-max-us", paramLabel = "N", defaultValue = "${env:VFU_POLL_MAX_US}",
            converter = PollConverter.class,
            description = "let each session's thread busy-poll up to N microseconds (0-1000, adaptive) for its "
                    + "client's next message before it sleeps (default 50; 0: never poll; overrides a config "
                    + "file's limits.pollMaxMicros; env VFU_POLL_MAX_US)")
    private Integer pollMaxMicros;

    @CommandLine.Mixin
    private LoggingOptions logging = new LoggingOptions();

    private final Runner runner;

    /** A command that hands its checked options to {@code runner}. */
    public ServerCommand(Runner runner) {
        this.runner = runner;
    }

    /**
     * The command line for {@code runner}, with vfu-server's error handling: usage errors exit
     * {@value #USAGE}, failures {@value #FAILURE}, each with one {@code vfu-server: ...} line on stderr.
     */
    public static CommandLine commandLine(Runner runner) {
        CommandLine cl = new CommandLine(new ServerCommand(runner));
        // Rule: plain text always: the help is read by people and by scripts (and checked in, see bin/vfu-server).
        cl.setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
        cl.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("vfu-server: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Try 'vfu-server --help' for the options.");
            err.flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            PrintWriter err = c.getErr();
            err.println("vfu-server: " + describe(e));
            // Rule: an expected failure is one line; anything else is a bug and shows where it happened.
            if (!(e instanceof java.io.IOException || e instanceof IllegalArgumentException)) {
                e.printStackTrace(err);
            }
            err.flush();
            return FAILURE;
        });
        return cl;
    }

    private static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    @Override
    public Integer call() throws Exception {
        return runner.run(options());
    }

    /**
     * The options, checked against each other.
     *
     * @throws ParameterException naming the rule that is broken
     */
    CliOptions options() {
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        Path socketSource = socket;
        Path configSource = config;
        // Rule: a source named on the command line wins over the other source's environment variable.
        if (given.hasMatchedOption("--socket") && !given.hasMatchedOption("--config")) {
            configSource = null;
        } else if (given.hasMatchedOption("--config") && !given.hasMatchedOption("--socket")) {
            socketSource = null;
        }
        // Rule: one device source, never both and never none.
        if (socketSource == null && configSource == null) {
            throw usage("one of --socket or --config is required (or VFU_SOCKET or VFU_CONFIG)");
        }
        if (socketSource != null && configSource != null) {
            throw usage(given.hasMatchedOption("--socket")
                    ? "--socket and --config are mutually exclusive"
                    : "VFU_SOCKET and VFU_CONFIG are both set; give --socket or --config to choose");
        }
        // Rule: a config file states its own access; two sources could disagree without anyone noticing.
        if (configSource != null && (socketMode != null || socketGroup != null || !allowUids.isEmpty()
                || !allowGids.isEmpty())) {
            throw usage("--socket-mode, --socket-group, --allow-uid and --allow-gid go with --socket; with "
                    + "--config set socketMode, socketGroup, allowedUids and allowedGids in the file");
        }
        return new CliOptions(Optional.ofNullable(socketSource), Optional.ofNullable(configSource),
                Optional.ofNullable(metricsPort), metricsHost, Optional.ofNullable(socketMode),
                Optional.ofNullable(socketGroup), allowUids, allowGids, Optional.ofNullable(pollMaxMicros),
                logging.options());
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code --version}: the Maven version and the git commit of this build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {BuildInfo.current().line()};
        }
    }

    /** An integer option within [min, max]; a refusal names what the value is and the range. */
    abstract static class BoundedIntConverter implements CommandLine.ITypeConverter<Integer> {
        private final String what;
        private final int min;
        private final int max;

        BoundedIntConverter(String what, int min, int max) {
            this.what = what;
            this.min = min;
            this.max = max;
        }

        @Override
        public Integer convert(String s) {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException(what + " (" + min + "-" + max + "), not '" + s + "'");
            }
            if (v < min || v > max) {
                throw new TypeConversionException(what + " is " + min + "-" + max + ", not " + v);
            }
            return v;
        }
    }

    /** {@code --poll-max-us}: microseconds, 0 to {@value ServerConfig#MAX_POLL_MICROS}. */
    static final class PollConverter extends BoundedIntConverter {
        PollConverter() {
            super("a polling window in microseconds", 0, (int) ServerConfig.MAX_POLL_MICROS);
        }
    }

    /** A TCP port, 0 to 65535. */
    static final class PortConverter extends BoundedIntConverter {
        PortConverter() {
            super("a port number", 0, 65535);
        }
    }

    /** A uid or gid: a u32 other than (id_t) -1. */
    static final class IdConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            long id;
            try {
                id = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("numeric ids only, not '" + s + "'");
            }
            // Rule: an id is a u32 other than (id_t) -1; anything else can never match a peer.
            if (id < 0 || id > PeerPolicy.MAX_ID) {
                throw new TypeConversionException("an id is 0-" + PeerPolicy.MAX_ID + ", not " + id);
            }
            return id;
        }
    }

    /** An octal socket mode ({@link SocketMode#parse}). */
    static final class ModeConverter implements CommandLine.ITypeConverter<SocketMode> {
        @Override
        public SocketMode convert(String s) {
            try {
                return SocketMode.parse(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A group name or gid ({@link SocketGroup}). */
    static final class GroupConverter implements CommandLine.ITypeConverter<SocketGroup> {
        @Override
        public SocketGroup convert(String s) {
            try {
                return new SocketGroup(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
