#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <distill/manifest/manifest.hpp>

// Private to lib/manifest: turns the text of one manifest file into a Manifest, before its
// `include` is merged.
namespace distill::manifest::detail {

/// One manifest file as written.
struct Layer {
    Manifest manifest;              ///< path, included = {path}, keys and values filled in
    std::optional<Located> include; ///< the file's `include`, when it has one
};

/// Parses the text of the manifest `file`. Syntax errors, unknown keys and values of the wrong
/// type are appended to `diagnostics`; what could be read is returned all the same. Hints
/// that show a release name show `example_release`.
[[nodiscard]] Layer read_layer(const std::filesystem::path& file, const std::string& text,
                               std::string_view example_release,
                               std::vector<Diagnostic>& diagnostics);

} // namespace distill::manifest::detail
