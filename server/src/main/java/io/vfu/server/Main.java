package io.vfu.server;

import io.vfu.server.cli.CliOptions;
import io.vfu.server.config.ServerConfig;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * Entry point of {@code vfu-server}. Follows the spec's backend-program conventions: it does not daemonize,
 * honours SIGTERM (closing every socket and removing the socket files), and accepts {@code --socket-path}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        CliOptions options;
        try {
            options = CliOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vfu-server: " + e.getMessage());
            System.err.print(CliOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(CliOptions.USAGE);
            return;
        }
        VfuServer server;
        try {
            ServerConfig config = options.config().isPresent()
                    ? ServerConfig.load(options.config().get())
                    : options.singleDeviceConfig();
            server = VfuServer.start(config, options.metricsPort(), options.metricsHost());
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("vfu-server: " + e.getMessage());
            System.exit(1);
            return;
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
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
