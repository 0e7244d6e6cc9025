package io.vfu.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Scale: one server process serving {@code devices} default devices from a {@code --config} file, each with
 * its own connected client doing config reads. Reports the server's RSS with every client connected and the
 * p99 of the reads (clients are served round-robin by a few harness threads), and before any client connects,
 * what a scrape of the idle devices' metrics costs.
 */
final class ScaleBench {

    record Result(int devices, double rssMib, Stats reads, double startupMs, ScrapeSize idleScrape) {
    }

    private ScaleBench() {
    }

    static Result run(List<String> serverCommand, Path dir, int devices, int readsPerClient, int threads)
            throws Exception {
        Path config = dir.resolve("scale-" + devices + ".json");
        StringBuilder json = new StringBuilder("{\"devices\":[");
        for (int i = 0; i < devices; i++) {
            json.append(i == 0 ? "" : ",").append("{\"name\":\"d").append(i).append("\",\"socket\":\"")
                    .append(dir.resolve("d" + i + ".sock")).append("\"}");
        }
        Files.writeString(config, json.append("]}").toString());
        try (ServerProcess server = ServerProcess.start(serverCommand, List.of("--config", config.toString(),
                "--metrics-port", "0"),
                dir.resolve("server.log"), 120)) {
            ScrapeSize idle = ScrapeSize.measure(server.metricsUri().orElseThrow(
                    () -> new IOException("the server's ready line names no metrics endpoint")));
            List<SyncClient> clients = new ArrayList<>(devices);
            try {
                for (int i = 0; i < devices; i++) {
                    clients.add(SyncClient.connect(dir.resolve("d" + i + ".sock")));
                }
                long[] samples = new long[devices * readsPerClient];
                try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                    List<Future<?>> work = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        int first = t;
                        work.add(pool.submit(() -> {
                            for (int round = 0; round < readsPerClient; round++) {
                                for (int c = first; c < devices; c += threads) {
                                    long t0 = System.nanoTime();
                                    clients.get(c).read4(SyncClient.REGION_CONFIG, ServerBench.CFG_ID);
                                    samples[round * devices + c] = System.nanoTime() - t0;
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : work) {
                        f.get();
                    }
                }
                double rss = server.rssBytes() / (1024.0 * 1024.0);
                return new Result(devices, rss, Stats.of(samples, samples.length), server.startupNanos() / 1e6,
                        idle);
            } finally {
                clients.forEach(SyncClient::close);
            }
        } finally {
            for (int i = 0; i < devices; i++) {
                Files.deleteIfExists(dir.resolve("d" + i + ".sock"));
            }
            Files.deleteIfExists(config);
        }
    }
}
