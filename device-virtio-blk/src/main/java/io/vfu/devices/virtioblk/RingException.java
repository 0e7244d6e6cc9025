package io.vfu.devices.virtioblk;

/**
 * The driver broke a ring rule the device cannot answer with a request status (a head index past the queue, a
 * descriptor loop, an indirect table inside an indirect table, a ring outside guest memory): the device marks
 * itself NEEDS_RESET and stops using the queues (virtio 1.2, 2.1.2).
 */
final class RingException extends Exception {

    RingException(String message) {
        super(message, null, false, false);
    }
}
