package io.vfu.device.pci;

import static io.vfu.device.pci.PciRegs.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 4 KiB type-0 configuration space, built as data: identity, BARs, Interrupt Pin and a capability chain
 * ({@link Builder}). State is dwords plus a writable mask and a write-1-to-clear mask per dword; behaviour lives
 * in the masks, in capability write hooks and in the Command register's two rules below. Status bit 3
 * (Interrupt Status) is not stored: it reads the INTx line, so it can never disagree with it.
 *
 * <p>Command: Interrupt Disable reaches the {@link IntxLine} at once; a change of Bus Master Enable calls the
 * hook set with {@link #onBusMasterChange}. Not thread-safe: the device lock guards it like the rest of a device.
 */
public final class ConfigSpace implements DwordAccess {

    private final int[] data = new int[SIZE / 4];
    private final int[] wmask = new int[SIZE / 4];
    private final int[] w1c = new int[SIZE / 4];
    private final Capability.WriteHook[] hooks = new Capability.WriteHook[SIZE / 4];
    private final int[] initial;
    private final IntxLine intx;
    private Runnable busMasterChanged = () -> { };

    private ConfigSpace(Builder b, IntxLine intx) {
        this.intx = intx;
        boolean caps = !b.capabilities.isEmpty();
        put(VENDOR_ID, b.vendorId | b.deviceId << 16, 0, 0);
        put(COMMAND, (caps ? STATUS_CAP_LIST : 0) << 16,
                CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE, STATUS_W1C << 16);
        put(REVISION_CLASS, b.revisionId | b.classCode << 8, 0, 0);
        // Cache line size is RW; latency timer, header type 0 (single function) and BIST are RO zero.
        put(HEADER_DWORD3, 0, 0xFF, 0);
        for (int i = 0; i < 6; i++) {
            Bar bar = b.bars[i];
            if (bar == null) {
                continue;
            }
            int at = BAR0 + 4 * i;
            // Rule: type bits RO; address bits above the size writable, so all-ones reads back ~(size-1).
            put(at, bar.typeBits(), (int) ~(bar.size() - 1) & ~0xF, 0);
            if (bar.is64()) {
                put(at + 4, 0, (int) (~(bar.size() - 1) >>> 32), 0);
            }
        }
        put(SUBSYSTEM, b.subsystemVendorId | b.subsystemId << 16, 0, 0);
        put(ROM_BAR, 0, 0, 0); // Rule: no expansion ROM; the BAR is read-only zero so sizing finds nothing.
        put(CAP_PTR, caps ? b.offsets.get(0) : 0, 0, 0);
        put(INTERRUPT, b.interruptPin << 8, 0xFF, 0); // Interrupt Pin RO, Interrupt Line RW.
        for (int c = 0; c < b.capabilities.size(); c++) {
            Capability cap = b.capabilities.get(c);
            int at = b.offsets.get(c);
            int next = c + 1 < b.capabilities.size() ? b.offsets.get(c + 1) : 0;
            for (int d = 0; d < cap.values.length; d++) {
                int value = d == 0 ? (cap.values[0] & 0xFFFF0000) | next << 8 | cap.id : cap.values[d];
                put(at + 4 * d, value, cap.writable[d], cap.w1c[d]);
                hooks[(at >>> 2) + d] = cap.hooks[d];
            }
        }
        // Extended space 0x100: a zero header means "no extended capabilities" (PCIe Base 7.6.2); otherwise the
        // first one sits at 0x100 and each header holds ID, version and the next offset (0: end).
        for (int c = 0; c < b.extended.size(); c++) {
            Capability cap = b.extended.get(c);
            int at = b.extendedOffsets.get(c);
            int next = c + 1 < b.extended.size() ? b.extendedOffsets.get(c + 1) : 0;
            for (int d = 0; d < cap.values.length; d++) {
                int value = d == 0 ? cap.id | cap.extendedVersion << 16 | next << 20 : cap.values[d];
                put(at + 4 * d, value, cap.writable[d], cap.w1c[d]);
                hooks[(at >>> 2) + d] = cap.hooks[d];
            }
        }
        initial = data.clone();
    }

    /** A builder for a configuration space; every field defaults to zero and no BAR, capability or pin. */
    public static Builder builder() {
        return new Builder();
    }

    private void put(int offset, int value, int writable, int writeOneToClear) {
        data[offset >>> 2] = value;
        wmask[offset >>> 2] = writable;
        w1c[offset >>> 2] = writeOneToClear;
    }

    /** Hook called after Bus Master Enable changes (e.g. a DMA engine resumes queued work). */
    public void onBusMasterChange(Runnable hook) {
        this.busMasterChanged = hook;
    }

    /** Back to power-on values (device reset, FLR); MSI-X Enable/Function Mask clear with it. */
    public void reset() {
        System.arraycopy(initial, 0, data, 0, data.length);
    }

    /** The function saw its own bus-master request fail (DMA fault): Status.Received Master Abort, W1C. */
    public void setReceivedMasterAbort() {
        data[COMMAND >>> 2] |= STATUS_RECEIVED_MASTER_ABORT << 16;
    }

    /** Command.Bus Master Enable: a function must not master the bus (DMA, MSI) while it is clear. */
    public boolean busMaster() {
        return (data[COMMAND >>> 2] & CMD_BUS_MASTER) != 0;
    }

    @Override
    public int readDword(int offset) {
        int d = data[offset >>> 2];
        if (offset == COMMAND && intx != null && intx.level()) {
            d |= STATUS_INTERRUPT << 16; // Rule: Interrupt Status mirrors the INTx line, whatever Disable says.
        }
        return d;
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        int i = offset >>> 2;
        int old = data[i];
        int updated = (old & ~(wmask[i] & mask)) | (value & wmask[i] & mask);
        updated &= ~(value & w1c[i] & mask); // Rule: write-1-to-clear bits clear where a 1 is written.
        data[i] = updated;
        if (offset == COMMAND) {
            if (intx != null) {
                intx.setDisabled((updated & CMD_INTX_DISABLE) != 0);
            }
            if (((old ^ updated) & CMD_BUS_MASTER) != 0) {
                busMasterChanged.run();
            }
        } else if (hooks[i] != null) {
            hooks[i].written(old, updated, value, mask);
        }
    }

    /** Snapshot for tests and diagnostics. */
    public int[] dwords() {
        return Arrays.copyOf(data, data.length);
    }

    /** Identity, BARs, pin and capabilities of a {@link ConfigSpace}, as data. */
    public static final class Builder {
        private int vendorId;
        private int deviceId;
        private int subsystemVendorId;
        private int subsystemId;
        private int revisionId;
        private int classCode;
        private int interruptPin;
        private final Bar[] bars = new Bar[6];
        private final List<Capability> capabilities = new ArrayList<>();
        private final List<Integer> offsets = new ArrayList<>();
        private int nextFree = FIRST_CAPABILITY;
        private final List<Capability> extended = new ArrayList<>();
        private final List<Integer> extendedOffsets = new ArrayList<>();
        private int nextExtended = 0x100;

        private Builder() {
        }

        /** Vendor and device ID (16 bits each). */
        public Builder ids(int vendorId, int deviceId) {
            this.vendorId = u16(vendorId, "vendor id");
            this.deviceId = u16(deviceId, "device id");
            return this;
        }

        /** Subsystem vendor and subsystem ID (16 bits each). */
        public Builder subsystem(int vendorId, int id) {
            this.subsystemVendorId = u16(vendorId, "subsystem vendor id");
            this.subsystemId = u16(id, "subsystem id");
            return this;
        }

        /** Revision ID (8 bits) and class code (24 bits: class, subclass, programming interface). */
        public Builder revisionAndClass(int revisionId, int classCode) {
            if ((revisionId & ~0xFF) != 0 || (classCode & ~0xFFFFFF) != 0) {
                throw new IllegalArgumentException("revision is 8 bits, class code 24 bits");
            }
            this.revisionId = revisionId;
            this.classCode = classCode;
            return this;
        }

        /** Interrupt Pin: 1 = INTA (the function has INTx), 0 = none. */
        public Builder interruptPin(int pin) {
            if (pin < 0 || pin > 4) {
                throw new IllegalArgumentException("interrupt pin is 0-4: " + pin);
            }
            this.interruptPin = pin;
            return this;
        }

        /** BAR {@code index} (0-5); a 64-bit BAR also takes {@code index + 1}. */
        public Builder bar(int index, Bar bar) {
            if (index < 0 || index > 5 || (bar.is64() && index == 5)) {
                throw new IllegalArgumentException("no room for BAR " + index);
            }
            if (bars[index] != null || (index > 0 && bars[index - 1] != null && bars[index - 1].is64())
                    || (bar.is64() && bars[index + 1] != null)) {
                throw new IllegalArgumentException("BAR " + index + " overlaps another BAR");
            }
            bars[index] = bar;
            return this;
        }

        /** Appends {@code cap} to the chain at the next free dword-aligned offset. */
        public Builder capability(Capability cap) {
            return capability(nextFree, cap);
        }

        /**
         * Appends {@code cap} to the chain at {@code offset} (ABI-fixed layouts place theirs explicitly). The
         * chain keeps the order of the calls.
         */
        public Builder capability(int offset, Capability cap) {
            if (cap.extendedVersion >= 0) {
                throw new IllegalArgumentException("an extended capability goes to extendedCapability: " + cap);
            }
            // Rule: capabilities live in [0x40, 0x100), dword-aligned, and never overlap.
            if ((offset & 3) != 0 || offset < FIRST_CAPABILITY || offset + cap.length() > 0x100) {
                throw new IllegalArgumentException("capability at 0x" + Integer.toHexString(offset)
                        + " does not fit the standard space");
            }
            for (int c = 0; c < capabilities.size(); c++) {
                int at = offsets.get(c);
                if (offset < at + capabilities.get(c).length() && at < offset + cap.length()) {
                    throw new IllegalArgumentException("capability at 0x" + Integer.toHexString(offset)
                            + " overlaps the one at 0x" + Integer.toHexString(at));
                }
            }
            capabilities.add(cap);
            offsets.add(offset);
            nextFree = Math.max(nextFree, (offset + cap.length() + 3) & ~3);
            return this;
        }

        /**
         * Appends the extended capability {@code cap} ({@link Capability#extended}) to the chain at 0x100: the
         * first at 0x100 itself, each next at the next free dword.
         */
        public Builder extendedCapability(Capability cap) {
            if (cap.extendedVersion < 0) {
                throw new IllegalArgumentException("not an extended capability: " + cap);
            }
            if (nextExtended + cap.length() > SIZE) {
                throw new IllegalArgumentException("extended capabilities do not fit in 4 KiB");
            }
            extended.add(cap);
            extendedOffsets.add(nextExtended);
            nextExtended = (nextExtended + cap.length() + 3) & ~3;
            return this;
        }

        /** The configuration space; {@code intx} is the function's INTx line, or null without INTx. */
        public ConfigSpace build(IntxLine intx) {
            if (interruptPin != 0 && intx == null) {
                throw new IllegalArgumentException("an Interrupt Pin needs an INTx line");
            }
            return new ConfigSpace(this, intx);
        }

        private static int u16(int v, String what) {
            if ((v & ~0xFFFF) != 0) {
                throw new IllegalArgumentException(what + " is 16 bits: 0x" + Integer.toHexString(v));
            }
            return v;
        }
    }
}
