package io.vfu.device.pci;

import io.vfu.device.InterruptSource;

/**
 * Told when the {@link VectorBudget} could not cover an MSI-X append or an IMS unmask, so a device can show the
 * guest why (the default device's BAR0 ERROR_CODE). Called under the device lock; must not block.
 */
@FunctionalInterface
public interface BudgetListener {

    /**
     * @param source MSIX or IMS
     * @param index  the vector or entry that found the budget spent
     */
    void exhausted(InterruptSource source, int index);
}
