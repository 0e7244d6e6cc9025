package io.vfu.device;

/** The action part of SET_IRQS flags (spec: MASK=0x8, UNMASK=0x10, TRIGGER=0x20). */
public enum IrqAction {
    MASK, UNMASK, TRIGGER
}
