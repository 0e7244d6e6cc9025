package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vfu.device.SettingException;
import io.vfu.device.VfioDeviceFactory;
import io.vfu.server.config.ConfigException;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/config.schema.json} and {@code docs/configuration.md} say what the server accepts: the schema's keys
 * are the keys the config reader and every device type on the class path accept, the documentation names each,
 * and every example config in the README and the docs is valid by the schema and loads.
 */
class ConfigSchemaTest {
    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DEVICE = "{\"name\": \"d\", \"socket\": \"/x.sock\"";

    private static JsonNode schema() throws Exception {
        return JSON.readTree(TOP.resolve("docs/config.schema.json").toFile());
    }

    private static Set<String> keys(JsonNode properties) {
        Set<String> keys = new TreeSet<>();
        properties.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    /** The keys valid where {@code json} has its unknown key {@code zzUnknown}, as the config reader says. */
    private static Set<String> acceptedBeside(String json) {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.parse("probe.json", json));
        assertTrue(e.path().endsWith("zzUnknown"), e.getMessage());
        return e.validKeys();
    }

    /** The device types on the class path, by type. */
    private static Map<String, VfioDeviceFactory> types() {
        Map<String, VfioDeviceFactory> types = new HashMap<>();
        ServiceLoader.load(VfioDeviceFactory.class).forEach(f -> types.put(f.type(), f));
        return types;
    }

    @Test
    void theSchemaHasExactlyTheKeysTheServerAccepts() throws Exception {
        JsonNode s = schema();
        String devices = "\"devices\": [" + DEVICE + "}]";
        assertEquals(acceptedBeside("{" + devices + ", \"zzUnknown\": 1}"), keys(s.get("properties")), "top level");
        assertEquals(acceptedBeside("{" + devices + ", \"limits\": {\"zzUnknown\": 1}}"),
                keys(s.at("/properties/limits/properties")), "limits");
    }

    @Test
    void theSchemaHasABranchPerDeviceTypeWithExactlyItsKeys() throws Exception {
        Map<String, Set<String>> branches = new HashMap<>();
        for (JsonNode branch : schema().at("/$defs/device/oneOf")) {
            JsonNode type = branch.at("/properties/type/enum");
            assertEquals(1, type.size(), "each branch is one type");
            branches.put(type.get(0).asText(), keys(branch.get("properties")));
        }
        Map<String, VfioDeviceFactory> types = types();
        assertTrue(types.containsKey("memmove-ims") && types.containsKey("gpio"), types.keySet().toString());
        assertEquals(new TreeSet<>(types.keySet()), new TreeSet<>(branches.keySet()),
                "a branch for every device type on the class path, and no other");
        for (var t : types.entrySet()) {
            SettingException e = assertThrows(SettingException.class,
                    () -> t.getValue().validate(JSON.readTree("{\"zzUnknown\": 1}")));
            Set<String> accepted = new TreeSet<>(e.validKeys());
            accepted.addAll(DeviceSpec.SERVER_KEYS);
            assertEquals(accepted, branches.get(t.getKey()), "keys of a " + t.getKey() + " device");
        }
    }

    @Test
    void everyKeyIsDocumentedInOnePlace() throws Exception {
        String doc = Files.readString(TOP.resolve("docs/configuration.md"));
        List<String> missing = new ArrayList<>();
        JsonNode s = schema();
        List<JsonNode> objects = new ArrayList<>(List.of(s.get("properties"), s.at("/properties/limits/properties")));
        s.at("/$defs/device/oneOf").forEach(b -> objects.add(b.get("properties")));
        for (JsonNode props : objects) {
            for (Iterator<String> it = props.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!doc.contains("| `" + key + "` |")) {
                    missing.add(key);
                }
            }
        }
        assertEquals(List.of(), missing, "keys without a row in docs/configuration.md");
        assertTrue(Files.readString(TOP.resolve("README.md")).contains("docs/configuration.md"), "README links it");
    }

    /** The config examples of the README (indented blocks starting with {@code {"}) and of docs (json fences). */
    private static List<String> examples() throws Exception {
        List<String> found = new ArrayList<>();
        List<String> readme = Files.readAllLines(TOP.resolve("README.md"));
        for (int i = 0; i < readme.size(); i++) {
            if (readme.get(i).startsWith("    {\"")) {
                StringBuilder b = new StringBuilder();
                for (; i < readme.size() && readme.get(i).startsWith("    "); i++) {
                    b.append(readme.get(i).substring(4)).append('\n');
                }
                found.add(b.toString());
            }
        }
        String doc = Files.readString(TOP.resolve("docs/configuration.md"));
        for (int at = doc.indexOf("```json\n"); at >= 0; at = doc.indexOf("```json\n", at + 1)) {
            found.add(doc.substring(at + 8, doc.indexOf("```", at + 8)));
        }
        return found;
    }

    @Test
    void everyExampleIsValidByTheSchemaAndLoads() throws Exception {
        SchemaCheck check = new SchemaCheck(schema());
        List<String> examples = examples();
        assertTrue(examples.size() >= 3, "README's and docs' examples found: " + examples.size());
        for (String example : examples) {
            assertEquals(List.of(), check.problems(JSON.readTree(example)), example);
            assertFalse(ServerConfig.parse("example.json", example).devices().isEmpty(), example);
        }
    }

    @Test
    void theSchemaAndTheServerRefuseTheSameMistakes() throws Exception {
        SchemaCheck check = new SchemaCheck(schema());
        String[] bad = {
                "{\"devices\": [" + DEVICE + ", \"msixVector\": 64}]}",
                "{\"devices\": [" + DEVICE + ", \"msixVectors\": 64.7}]}",
                "{\"devices\": [" + DEVICE + ", \"msixVectors\": \"64\"}]}",
                "{\"devices\": [" + DEVICE + ", \"vectorBudget\": -1}]}",
                "{\"devices\": [" + DEVICE + ", \"type\": \"gpio\", \"msixVectors\": 4}]}",
                "{\"devices\": [" + DEVICE + ", \"socketMode\": 660}]}",
                "{\"allowedUids\": [-1], \"devices\": [" + DEVICE + "}]}",
                "{\"limits\": {\"dmaMappedFilesPerSession\": -5}, \"devices\": [" + DEVICE + "}]}",
                "{\"metricsPorts\": 1, \"devices\": [" + DEVICE + "}]}",
                "{\"devices\": []}",
        };
        for (String json : bad) {
            assertFalse(check.problems(JSON.readTree(json)).isEmpty(), "the schema refuses " + json);
            assertThrows(ConfigException.class, () -> ServerConfig.parse("bad.json", json), json);
        }
    }
}
