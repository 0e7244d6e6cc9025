package io.vfu.device;

import java.util.Collections;
import java.util.List;

/**
 * The data part of SET_IRQS (spec: DATA_NONE=1, DATA_BOOL=2, DATA_EVENTFD=4), without protocol types.
 */
public sealed interface IrqData {

    /** DATA_NONE: act on every vector in the range; with TRIGGER and count 0 it disables the index. */
    record None() implements IrqData {
    }

    /** DATA_BOOL: act on vector {@code start + i} only where {@code flags.get(i)} is true. */
    record Bools(List<Boolean> flags) implements IrqData {
        public Bools {
            flags = List.copyOf(flags);
        }
    }

    /**
     * DATA_EVENTFD: with TRIGGER, assign {@code targets.get(i)} to vector {@code start + i}. A {@code null}
     * element de-assigns that vector; an empty list de-assigns the whole range (vfio-user sends no fds).
     * Ownership of every non-null target passes to the model only if the call returns normally.
     */
    record Targets(List<IrqTarget> targets) implements IrqData {
        public Targets {
            // Rule: nulls are meaningful (de-assign), so copy without List.copyOf, which rejects them.
            targets = Collections.unmodifiableList(new java.util.ArrayList<>(targets));
        }
    }

    IrqData NONE = new None();
}
