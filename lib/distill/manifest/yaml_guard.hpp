#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <distill/manifest/manifest.hpp>

// Private to lib/manifest: what stands between a manifest's text and yaml-cpp, so that reading
// any file ends in bounded time and memory with a located error. yaml-cpp 0.7 (Debian 12's)
// loops forever, allocating without bound, on some malformed input (a document that starts
// with a flow-entry comma is one).
namespace distill::manifest::detail {

/// Most bytes a manifest file may have. Stock manifests are under 1 KiB; a megabyte is
/// thousands of packages.
inline constexpr std::size_t k_max_manifest_bytes = std::size_t{1} << 20;
/// Most YAML nodes (scalars, lists, maps, aliases) in one manifest file: what bounds yaml-cpp's
/// time and memory on input it parses correctly (about 4 us and 500 bytes a node).
inline constexpr std::size_t k_max_yaml_nodes = 100'000;
/// Deepest nesting of lists and maps; a manifest needs four levels.
inline constexpr int k_max_yaml_depth = 64;

/// Reads a manifest file, at most k_max_manifest_bytes + 1 bytes of it (so that check_yaml()
/// can tell it is too large without reading a huge file or a device whole). Throws Error naming
/// the path when it cannot be read.
[[nodiscard]] std::string read_manifest_text(const std::filesystem::path& file);

/// Runs libyaml's parser over the whole text and checks the bounds above. Returns the first
/// problem as a diagnostic at `file`:line:column, or nothing when the text is YAML that
/// yaml-cpp may be given.
[[nodiscard]] std::optional<Diagnostic> check_yaml(const std::filesystem::path& file,
                                                   std::string_view text);

/// Bounds on a trial parse.
struct TrialLimits {
    std::chrono::milliseconds wall{10'000};          ///< real time, however busy the machine
    unsigned cpu_seconds = 3;                        ///< CPU time (the bound that normally fires)
    std::size_t memory_bytes = std::size_t{1} << 30; ///< address space beyond the current one
};

/// Whether trial_parse() bounds the child's memory. Not under AddressSanitizer, which reserves
/// terabytes of address space up front: there the CPU and wall-clock bounds stand alone.
extern const bool k_trial_memory_bounded;

/// Runs yaml-cpp's parser over `text` in a child process under `limits` and waits for it,
/// interruptibly. Returns nothing when the parse finished (well-formed or not: yaml-cpp then
/// does the same in this process, in bounded time and memory), or a diagnostic at `file` when
/// it ran out of time or memory or crashed. Throws Error("interrupted") at cancellation.
[[nodiscard]] std::optional<Diagnostic> trial_parse(const std::filesystem::path& file,
                                                    const std::string& text,
                                                    const TrialLimits& limits = {});

/// check_yaml(), then trial_parse() with the default limits: what the manifest reader calls
/// before handing the text to yaml-cpp. In a fuzzing build (DISTILL_FUZZING) only
/// check_yaml(): libFuzzer must see the parse in its own process, where it bounds it itself.
[[nodiscard]] std::optional<Diagnostic> guard_yaml(const std::filesystem::path& file,
                                                   const std::string& text);

} // namespace distill::manifest::detail
