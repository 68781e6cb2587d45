// The manifest reader on any text: the YAML guard's syntax check, yaml-cpp and the reader, then
// validate() on what was read. Errors are answers; anything else escaping is a bug.
//
// The binary first parses with yaml-cpp in a child process bounded in CPU time and memory
// (trial_parse), then again in its own. A fork per input would slow the fuzzer forty-fold, so
// here the reader parses in this process, where libFuzzer bounds time and memory, and only the
// inputs with YAML node properties (tags `!`, anchors `&`) take the child trial
// first: yaml-cpp 0.7 loops forever on a tag or anchor before a plain scalar that goes on
// with `? ` on the next line (`&a foo` / `? b`), which the trial turns into an error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <distill/distro/distro.hpp>
#include <distill/manifest/reader.hpp>
#include <distill/manifest/yaml_guard.hpp>

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    distill::manifest::detail::parse_yaml_in_process();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (text.find_first_of("!&") != std::string::npos &&
        !distill::manifest::detail::check_yaml("fuzz.yaml", text) &&
        distill::manifest::detail::trial_parse("fuzz.yaml", text)) {
        return 0; // what the binary says: the YAML parser did not finish
    }
    std::vector<distill::manifest::Diagnostic> diagnostics;
    const auto layer =
        distill::manifest::detail::read_layer("fuzz.yaml", text, "bookworm", diagnostics);
    if (diagnostics.empty()) {
        try {
            distill::distro::validate(layer.manifest);
        } catch (const distill::manifest::ManifestError&) {
        }
    }
    return 0;
}
