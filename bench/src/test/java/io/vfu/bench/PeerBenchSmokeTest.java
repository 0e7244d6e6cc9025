package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --peer-socket} end to end in {@code --smoke} mode, with a second instance of our own server as the peer,
 * so the test needs no other vfio-user implementation. Asserts the keys a reader relies on and their sanity; no
 * timing thresholds (two identical servers on a shared machine may differ either way).
 */
class PeerBenchSmokeTest {

    static final List<String> LATENCY = List.of("cfgread_p50_us", "cfgread_p99_us", "peer_cfgread_p50_us",
            "peer_cfgread_p99_us", "barread_p50_us", "barread_p99_us", "peer_barread_p50_us", "peer_barread_p99_us");

    static final List<String> RATIOS = List.of("ratio_cfgread_p50_vs_peer", "ratio_cfgread_p99_vs_peer",
            "ratio_barread_p50_vs_peer", "ratio_barread_p99_vs_peer");

    /** The third target's figures: our server with {@code --poll-max-us 0} (its default polling off). */
    static final List<String> NOPOLL = List.of("nopoll_cfgread_p50_us", "nopoll_cfgread_p90_us",
            "nopoll_cfgread_p99_us", "nopoll_cfgread_max_us", "nopoll_barread_p50_us", "nopoll_barread_p90_us",
            "nopoll_barread_p99_us", "nopoll_barread_max_us", "ratio_nopoll_cfgread_p50_vs_peer",
            "ratio_nopoll_cfgread_p99_vs_peer", "ratio_nopoll_barread_p50_vs_peer", "ratio_nopoll_barread_p99_vs_peer");

    @Test
    void peerRunAgainstASecondServerOfOurs(@TempDir Path dir) throws Exception {
        Path peerSocket = dir.resolve("peer.sock");
        JsonNode json = run(dir, peerSocket);

        assertEquals(peerSocket.toString(), json.get("peer_socket").asText());
        // Our default device: the vendor:device its config space starts with, and BAR0 readable.
        assertTrue(json.get("peer_pci_id").asText().matches("[0-9a-f]{4}:[0-9a-f]{4}"), json.toString());
        assertEquals(0, json.get("peer_bar").asInt());
        for (String key : LATENCY) {
            assertTrue(json.path(key).isNumber() && json.get(key).asDouble() > 0, key + ": " + json.get(key));
        }
        assertPositiveAndFinite(json, RATIOS);
        assertPositiveAndFinite(json, NOPOLL);
        assertTrue(json.get("cfgread_p99_us").asDouble() >= json.get("cfgread_p50_us").asDouble());
        assertTrue(json.get("peer_cfgread_p99_us").asDouble() >= json.get("peer_cfgread_p50_us").asDouble());
        assertTrue(json.get("nopoll_cfgread_p99_us").asDouble() >= json.get("nopoll_cfgread_p50_us").asDouble());
        assertTrue(json.get("ours_gc_pauses").isIntegralNumber());
        assertTrue(json.get("nopoll_gc_pauses").isIntegralNumber());
    }

    @Test
    void peerSocketExcludesTheGuestModes() {
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--peer-socket", "/x", "--guest"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--peer-socket", "/x", "--guest-blk"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--peer-socket", "/x", "--gc-only"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--peer-socket"));
        assertEquals(Path.of("/x"), BenchOptions.parse("--peer-socket", "/x").peerSocket());
    }

    /** A bench run in smoke mode against a second server of ours listening on {@code peerSocket}. */
    private static JsonNode run(Path dir, Path peerSocket) throws Exception {
        try (ServerProcess peer = ServerProcess.start(ServerProcess.command(null, List.of("-XX:+UseSerialGC")),
                List.of("--socket", peerSocket.toString()), dir.resolve("peer.log"), 60)) {
            BenchOptions o = BenchOptions.parse("--smoke", "--json", "--peer-socket", peerSocket.toString(),
                    "--work", dir.resolve("work").toString());
            return new ObjectMapper().readTree(PeerBench.run(o, dir.resolve("work")).toJson());
        }
    }

    private static void assertPositiveAndFinite(JsonNode json, List<String> keys) {
        for (String key : keys) {
            double v = json.path(key).asDouble(Double.NaN);
            assertTrue(json.path(key).isNumber() && v > 0 && Double.isFinite(v), key + ": " + json.get(key));
        }
    }
}
