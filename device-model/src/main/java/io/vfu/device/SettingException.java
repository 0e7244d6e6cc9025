package io.vfu.device;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A device setting is wrong: an unknown key, a value of the wrong type, or a value out of range. {@link Settings}
 * throws it; it names the key so that whoever reads the configuration (the server) can point at where that key
 * is written. The message says what is wrong in words, as {@link IllegalArgumentException} always did.
 */
public final class SettingException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String key;
    private final SortedSet<String> validKeys;

    /**
     * @param key       the setting's key, as written in the configuration
     * @param message   what is wrong with it
     * @param validKeys the keys the device accepts, when {@code key} is not one of them; empty otherwise
     */
    public SettingException(String key, String message, Set<String> validKeys) {
        super(message);
        this.key = key;
        this.validKeys = new TreeSet<>(validKeys);
    }

    /** The key of the setting that is wrong. */
    public String key() {
        return key;
    }

    /** The keys the device accepts, sorted, when {@link #key} is not one of them; empty otherwise. */
    public SortedSet<String> validKeys() {
        return new TreeSet<>(validKeys);
    }
}
