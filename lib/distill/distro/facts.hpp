#pragma once

#include <span>
#include <string>
#include <string_view>

#include <distill/manifest/manifest.hpp>

// What the manifest reference says about each distro a manifest can name, as data: enough to
// validate and default a manifest of any of them, whether or not this distill implements the
// distro yet (distro::get()). Their architecture names are in arch.hpp; what takes code (the
// version syntax of a pin, say) is the implementation's (manifest::DistroRules).
namespace distill::distro {

/// The manifest-level facts of one distro.
struct Facts {
    manifest::Distro id = manifest::Distro::debian;
    /// A source without `suites` reads the release with each of these appended ("": the
    /// release itself).
    std::span<const std::string_view> suite_suffixes;
    /// The component a source without `components` reads.
    std::string_view default_component;
    /// Package names are at least `min_name_length` characters long, of letters (lowercase only
    /// unless `uppercase_names`), digits and `name_punctuation`, and start with a letter or digit.
    std::string_view name_punctuation;
    bool uppercase_names = false;
    std::size_t min_name_length = 2; ///< Debian's names have two characters at least
    /// That grammar in a sentence, for hints.
    std::string_view name_rule;
    /// Whether a request may name what a package provides (apk's `cmd:`, `so:`, `pc:` names
    /// and paths such as `/bin/sh`), the solver then picking a provider.
    bool provided_names = false;
    /// The package whose busybox the debug variant puts under /busybox: one binary that needs
    /// nothing the image may lack (Debian's busybox-static), or the distro's busybox.
    std::string_view busybox_package;
};

/// The facts of `distro`.
[[nodiscard]] const Facts& facts(manifest::Distro distro);

/// Whether `c` may appear in a package name of the distro.
[[nodiscard]] bool package_name_char(const Facts& facts, char c);

/// Whether `name` is a valid package name of the distro.
[[nodiscard]] bool valid_package_name(const Facts& facts, std::string_view name);

/// Whether `name` is a name a package provides that a request of the distro may name
/// (Facts::provided_names): `PREFIX:NAME` with a prefix of lowercase letters, digits and dots
/// (`cmd:`, `so:`, `pc:`, `py3.11:`), or an absolute path; printable, without spaces or the
/// characters of the request syntax (`@<>=~!`).
[[nodiscard]] bool valid_provided_name(const Facts& facts, std::string_view name);

} // namespace distill::distro
