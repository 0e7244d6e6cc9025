package io.vfu.devices.virtioblk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What an operator writes as a virtio-blk device's settings, and the mistakes that are refused with the key. */
class BlkSettingsTest {

    private static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void onlyTheImageIsRequiredAndTheRestHasDefaults() throws Exception {
        BlkSettings s = BlkSettings.parse(json("{\"image\": \"/var/lib/vm/disk.raw\"}"));
        assertEquals(Path.of("/var/lib/vm/disk.raw"), s.image());
        assertEquals(4, s.queues());
        assertEquals(256, s.queueSize());
        assertEquals("", s.serial());
        assertEquals(false, s.readOnly());
        assertEquals(false, s.directIo());
        assertEquals(0, s.size());
    }

    @Test
    void mistakesNameTheKey() {
        assertMessage("{}", "\"image\" is required");
        assertMessage("{\"image\": 5}", "\"image\" must be a string");
        assertMessage("{\"image\": \"a\", \"readOnly\": \"true\"}", "\"readOnly\" must be true or false");
        assertMessage("{\"image\": \"a\", \"queues\": 0}", "\"queues\" must be in [1, 64]");
        assertMessage("{\"image\": \"a\", \"queues\": 2.5}", "\"queues\" must be an integer");
        assertMessage("{\"image\": \"a\", \"queueSize\": 100}", "\"queueSize\" must be a power of two");
        assertMessage("{\"image\": \"a\", \"serial\": \"123456789012345678901\"}", "\"serial\" must be at most 20");
        assertMessage("{\"image\": \"a\", \"size\": -1}", "\"size\" must be in [0,");
        assertMessage("{\"image\": \"a\", \"sise\": 1}", "unknown key \"sise\"");
    }

    private static void assertMessage(String settings, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BlkSettings.parse(json(settings)));
        assertTrue(e.getMessage().contains(part), e.getMessage() + " should say " + part);
    }
}
