/**
 * vfio-user message codecs (QEMU {@code docs/interop/vfio-user.rst}).
 *
 * <p>Shape: one class per command ({@code DeviceSetIrqs} holds {@code record Request} and
 * {@code record Reply}) under the sealed {@link io.vfu.protocol.Message}; {@link io.vfu.protocol.MessageDecoder}
 * and {@link io.vfu.protocol.MessageEncoder} are the only entry points. Unsigned wire fields are widened (u16 to
 * int, u32 to long); u64 fields are kept as raw {@code long} bits and compared with
 * {@link java.lang.Long#compareUnsigned}. Data payloads are read-only {@link java.nio.ByteBuffer} views (see
 * {@link io.vfu.protocol.Bytes}).
 *
 * <p>Errors: {@link io.vfu.protocol.FramingException} when the stream cannot be trusted (close the session),
 * {@link io.vfu.protocol.MessageException} with an errno for one bad message. Inconsistent lengths, counts,
 * flags and fd counts are EINVAL; data counts above max_data_xfer_size are E2BIG.
 *
 * <p>Spec ambiguities decided here (each also documented on its class):
 * <ul>
 *   <li>DMA_WRITE reply count is u64 (QEMU 11), not the u32 of the spec table.</li>
 *   <li>DMA_UNMAP flags: UNMAP_ALL (2) is accepted because QEMU sends it; bit 0 and others are EINVAL.</li>
 *   <li>DMA_MAP argsz must be exactly 32.</li>
 *   <li>SET_IRQS argsz equals the request payload size (20, or 20 + count for DATA_BOOL); eventfds travel out
 *       of band with argsz 20, as QEMU sends them.</li>
 *   <li>REGION_IO_FDS entries are 40 bytes right after the 16-byte fixed part (the spec's
 *       {@code (argsz - 32) / count} formula is taken as a typo).</li>
 *   <li>Replies whose caller's argsz is too small carry only their fixed part with the needed argsz
 *       (REGION_INFO, REGION_IO_FDS, DEVICE_FEATURE GET), so the client can retry.</li>
 *   <li>REGION_INFO caps must be laid out back to back from offset 32, as every known server writes them.</li>
 *   <li>Unknown VERSION capability keys are ignored; the numeric limits are always written.</li>
 * </ul>
 */
package io.vfu.protocol;
