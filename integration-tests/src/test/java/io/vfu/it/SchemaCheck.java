package io.vfu.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Checks a JSON value against the subset of JSON Schema (2020-12) that {@code docs/config.schema.json} uses:
 * {@code type}, {@code properties}, {@code additionalProperties: false}, {@code required}, {@code items},
 * {@code minItems}, {@code minimum}, {@code maximum}, {@code minLength}, {@code maxLength}, {@code pattern}, {@code enum},
 * {@code oneOf}, {@code anyOf} and {@code $ref} to {@code #/$defs/...}. Any other keyword fails the check, so the
 * schema cannot quietly use one this does not understand.
 */
final class SchemaCheck {

    private static final java.util.Set<String> UNDERSTOOD = java.util.Set.of("$schema", "title", "description",
            "type", "properties", "additionalProperties", "required", "items", "minItems", "minimum", "maximum",
            "minLength", "maxLength", "pattern", "enum", "oneOf", "anyOf", "$ref", "$defs");

    private final JsonNode root;

    SchemaCheck(JsonNode root) {
        this.root = root;
    }

    /** What is wrong with {@code value}, one entry per violation; empty when it is valid. */
    List<String> problems(JsonNode value) {
        List<String> out = new ArrayList<>();
        check(root, value, "$", out);
        return out;
    }

    private void check(JsonNode schema, JsonNode v, String at, List<String> out) {
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!UNDERSTOOD.contains(k)) {
                throw new IllegalStateException("schema keyword " + k + " is not understood by SchemaCheck");
            }
        }
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            if (!ref.startsWith("#/$defs/")) {
                throw new IllegalStateException("only #/$defs/ references: " + ref);
            }
            check(root.path("$defs").path(ref.substring("#/$defs/".length())), v, at, out);
        }
        if (schema.has("type") && !typeMatches(schema.get("type").asText(), v)) {
            out.add(at + ": must be " + schema.get("type").asText() + ", not " + v);
            return;
        }
        if (schema.has("enum")) {
            boolean any = false;
            for (JsonNode e : schema.get("enum")) {
                any |= e.equals(v);
            }
            if (!any) {
                out.add(at + ": must be one of " + schema.get("enum") + ", not " + v);
            }
        }
        if (schema.has("minimum") && v.isNumber() && v.decimalValue().compareTo(schema.get("minimum").decimalValue()) < 0) {
            out.add(at + ": below " + schema.get("minimum") + ": " + v);
        }
        if (schema.has("maximum") && v.isNumber() && v.decimalValue().compareTo(schema.get("maximum").decimalValue()) > 0) {
            out.add(at + ": above " + schema.get("maximum") + ": " + v);
        }
        if (schema.has("minLength") && v.isTextual() && v.textValue().length() < schema.get("minLength").asInt()) {
            out.add(at + ": shorter than " + schema.get("minLength"));
        }
        if (schema.has("maxLength") && v.isTextual() && v.textValue().length() > schema.get("maxLength").asInt()) {
            out.add(at + ": longer than " + schema.get("maxLength"));
        }
        if (schema.has("pattern") && v.isTextual()
                && !java.util.regex.Pattern.compile(schema.get("pattern").asText()).matcher(v.textValue()).find()) {
            out.add(at + ": does not match " + schema.get("pattern") + ": " + v);
        }
        if (v.isObject()) {
            JsonNode props = schema.path("properties");
            for (JsonNode r : schema.path("required")) {
                if (!v.has(r.asText())) {
                    out.add(at + ": needs " + r.asText());
                }
            }
            for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (props.has(k)) {
                    check(props.get(k), v.get(k), at + "." + k, out);
                } else if (schema.path("additionalProperties").isBoolean()
                        && !schema.get("additionalProperties").asBoolean()) {
                    out.add(at + ": unknown key " + k);
                }
            }
        }
        if (v.isArray()) {
            if (schema.has("minItems") && v.size() < schema.get("minItems").asInt()) {
                out.add(at + ": fewer than " + schema.get("minItems") + " items");
            }
            if (schema.has("items")) {
                for (int i = 0; i < v.size(); i++) {
                    check(schema.get("items"), v.get(i), at + "[" + i + "]", out);
                }
            }
        }
        for (String combinator : new String[] {"oneOf", "anyOf"}) {
            if (schema.has(combinator)) {
                int passing = 0;
                List<String> why = new ArrayList<>();
                for (JsonNode branch : schema.get(combinator)) {
                    List<String> p = new ArrayList<>();
                    check(branch, v, at, p);
                    passing += p.isEmpty() ? 1 : 0;
                    why.addAll(p);
                }
                if (combinator.equals("oneOf") ? passing != 1 : passing == 0) {
                    out.add(at + ": " + passing + " of the " + combinator + " branches match " + why);
                }
            }
        }
    }

    private static boolean typeMatches(String type, JsonNode v) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "integer" -> v.isIntegralNumber();
            case "number" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            default -> throw new IllegalStateException("type " + type + " is not understood by SchemaCheck");
        };
    }
}
