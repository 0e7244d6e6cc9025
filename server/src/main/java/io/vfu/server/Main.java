package io.vfu.server;

import io.vfu.server.cli.CliOptions;
import io.vfu.server.cli.ServerCommand;
import io.vfu.server.config.ServerConfig;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * Entry point of {@code vfu-server}. Follows the spec's backend-program conventions: it does not daemonize,
 * honours SIGTERM (closing every socket and removing the socket files), and accepts {@code --socket-path}.
 * Options and exit codes: {@link ServerCommand}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        int code = ServerCommand.commandLine(Main::serve).execute(args);
        // Rule: a server that started runs until SIGTERM, whose exit status the JVM sets; only a refusal exits here.
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Starts the server {@code options} describe, prints the ready line, and waits for SIGTERM. */
    static int serve(CliOptions options) throws Exception {
        // Rule: logging is set up before anything logs, so no line goes to Logback's default (stdout) setup.
        try {
            io.vfu.server.logging.LogSetup.apply(options.logging());
        } catch (NoClassDefFoundError e) {
            // Rule: run from a class path without Logback (another SLF4J backend), the logging options do not
            // apply; the server still starts and logs through whatever backend is there.
            System.err.println("vfu-server: no Logback on the class path; --log-level, --log-format and --trace "
                    + "are not applied");
        }
        ServerConfig config = options.config().isPresent()
                ? ServerConfig.load(options.config().get())
                : options.singleDeviceConfig();
        VfuServer server = VfuServer.start(config, options.metricsPort(), options.metricsHost(),
                options.limits(config));
        if (options.config().isPresent()) {
            new ConfigReload(server, options.config().get()).onSighup();
        } else {
            // Rule: SIGHUP never ends a server (the JVM's default would exit with 129); with no file, nothing to re-read.
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal ->
                    org.slf4j.LoggerFactory.getLogger(Main.class).info("SIGHUP: no --config file to re-read; nothing changed"));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "vfu-shutdown"));
        String devices = server.endpoints().stream()
                .map(ep -> ep.host().name() + "=" + ep.socket())
                .collect(Collectors.joining(" "));
        String metrics = server.metricsPort()
                .map(p -> " metrics=http://" + options.metricsHost() + ":" + p + "/metrics").orElse("");
        System.out.println("vfu-server ready " + devices + metrics);
        System.out.flush();
        stopped.await();
        return 0;
    }
}
