#pragma once

namespace distill::core {

/// Asks every long-running step to stop at its next check. Async-signal-safe: the CLI calls it
/// from its SIGINT/SIGTERM handler, so that an interrupted build unwinds, removes its temporary
/// files and leaves the previous output as it was.
void request_cancel() noexcept;

/// Whether request_cancel() was called.
[[nodiscard]] bool cancel_requested() noexcept;

/// Throws distill::Error("interrupted") once cancellation was requested; long loops (downloads,
/// unpacking, writing the layer) call it between units of work.
void throw_if_cancelled();

} // namespace distill::core
