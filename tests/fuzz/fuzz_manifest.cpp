// The manifest reader on any text: the YAML guard's syntax check, yaml-cpp and the reader
// (built with DISTILL_FUZZING, the guard parses in this process, where libFuzzer bounds it),
// then validate() on what was read. Errors are answers; anything else escaping is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <distill/distro/distro.hpp>
#include <distill/manifest/reader.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
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
