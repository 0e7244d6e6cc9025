package io.vfu.device.memmove;

import io.vfu.device.Interrupts;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import java.util.List;

/** The device's interrupts, telling it after every change so that the published registers follow. */
final class PublishingInterrupts implements Interrupts {

    private final Interrupts delegate;
    private final Runnable changed;

    PublishingInterrupts(Interrupts delegate, Runnable changed) {
        this.delegate = delegate;
        this.changed = changed;
    }

    @Override
    public int count() {
        return delegate.count();
    }

    @Override
    public IrqInfo info(int index) {
        return delegate.info(index);
    }

    @Override
    public List<IrqTarget> set(int index, IrqAction action, long start, long count, IrqData data) {
        try {
            return delegate.set(index, action, start, count, data);
        } finally {
            changed.run();
        }
    }

    @Override
    public List<IrqTarget> releaseSession() {
        try {
            return delegate.releaseSession();
        } finally {
            changed.run();
        }
    }

    @Override
    public boolean hasReleased() {
        return delegate.hasReleased();
    }

    @Override
    public List<IrqTarget> takeReleased() {
        return delegate.takeReleased();
    }
}
