#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

// Alpine's package versions as apk-tools 3 orders them. apk-tools 2.14 (which Alpine 3.19 to
// 3.22 ship) agrees on its own vectors (the first 733 of apk-tools 3's) but differs in corner
// cases: it has no "~hash" token, accepts a digit after a letter ("1.0a1"), reads components
// with leading zeros its own way, and matches fuzzily in both directions (see fuzzy_match()).
// The grammar is
//
//     digits ('.' digits)* [a-z]? ('_' suffix digits?)* ('~' hex)? ('-r' digits)?
//
// with suffix one of alpha beta pre rc (pre-releases, older than no suffix) or cvs svn git hg
// p (newer). Leading zeros after a dot make that component compare as a string ("1.01" <
// "1.1"), and a longer version is newer than its prefix unless what follows is a pre-release
// suffix ("1.0_rc1" < "1.0" < "1.0-r0" < "1.0.1").

namespace distill::distro::alpine {

/// Versions longer than this are refused by is_valid_version(), so that their sortable form
/// stays small.
inline constexpr std::size_t k_max_version_length = 128;

/// Compares two apk versions with apk's ordering: negative, zero or positive. Like apk it also
/// orders invalid versions (up to the first invalid token), without validating them. Numbers
/// are compared by value however long (apk wraps them at 2^64, which no real version reaches).
[[nodiscard]] int compare_versions(std::string_view a, std::string_view b);

/// Whether `version` follows apk's version grammar and is at most k_max_version_length long.
[[nodiscard]] bool is_valid_version(std::string_view version);

/// Maps a valid apk version to a Debian version string with the same ordering: for valid a
/// and b, dpkg's (and libsolv's DISTTYPE_DEB) comparison of sortable_version(a) and
/// sortable_version(b) has the sign of compare_versions(a, b), and versions apk finds equal map
/// to the same string. The result uses only digits, letters, '+' and '~' (no ':' or '-', which
/// Debian reads as epoch and revision), so libsolv can order Alpine packages in a Debian pool.
/// Each apk token maps to its own piece, and the pieces are concatenated, so a version whose
/// tokens start with another's maps to a string starting with the other's (fuzzy_bounds()).
/// Throws distill::Error when `version` is not valid.
[[nodiscard]] std::string sortable_version(std::string_view version);

/// The apk version a sortable form stands for: for a valid v, from_sortable_version(
/// sortable_version(v)) is v, or a version apk finds equal to it written the canonical way
/// (leading zeros of numbers dropped). Throws distill::Error for a string sortable_version()
/// does not make. For messages: the pool keeps sortable forms, people read apk versions.
[[nodiscard]] std::string from_sortable_version(std::string_view sortable);

/// apk's fuzzy match (`name~pattern`): whether the tokens of `pattern` are the first tokens
/// of `version`, with equal values ("3.6.9" and "3.6_pre1" match "3.6"; "3.60" and "3.6a" do
/// not). A pattern equal to the version matches. This is apk-tools 3's rule; apk-tools 2.14
/// also matched when the version was a prefix of the pattern ("3.8" ~ "3.8.1").
[[nodiscard]] bool fuzzy_match(std::string_view version, std::string_view pattern);

/// The sortable-form bounds [low, high) of a fuzzy match: for every valid version v,
/// fuzzy_match(v, pattern) holds exactly when low <= sortable_version(v) < high in dpkg's
/// ordering, so a solver can state `~pattern` as ">= low" and "<< high". Likewise `<~pattern`
/// is "<< high" and `>~pattern` is ">= low". Throws distill::Error when `pattern` is not a
/// valid version.
[[nodiscard]] std::pair<std::string, std::string> fuzzy_bounds(std::string_view pattern);

/// A dependency's version relation, as apk has them.
enum class Op {
    any,                 ///< no version given
    equal,               ///< `=`
    less,                ///< `<`
    less_equal,          ///< `<=`
    greater,             ///< `>`
    greater_equal,       ///< `>=`
    fuzzy,               ///< `~` (also written `=~`): fuzzy_match()
    fuzzy_less_equal,    ///< `<~`: less than the version, or a fuzzy match
    fuzzy_greater_equal, ///< `>~`: greater than the version, or a fuzzy match
    checksum,            ///< `><`: the "version" is a package's identity hash (`Q1` + base64)
};

/// Reads a relation the way apk does: each of '<', '>', '=' and '~' adds its meaning, in any
/// order and repeated ("=<" is "<=", "=~" is "~"). Returns nullopt for an empty text, another
/// character, or a combination apk writes no operator for ("<=>", which apk takes as "any
/// version").
[[nodiscard]] std::optional<Op> parse_operator(std::string_view text);

/// The operator as apk writes it ("" for Op::any).
[[nodiscard]] std::string_view operator_text(Op op);

/// Whether `version` satisfies `op reference` as apk decides it (Op::any: always). Op::checksum
/// compares package hashes, not versions: it is false here.
[[nodiscard]] bool version_matches(std::string_view version, Op op, std::string_view reference);

/// One dependency token of an APKINDEX `D:` (depends), `p:` (provides) or `i:` (install_if)
/// field or of /etc/apk/world: `[!]name[@tag][op version]`, for instance `musl>=1.2`,
/// `so:libc.musl-x86_64.so.1`, `cmd:busybox=1.36.1-r15`, `!openssh-client`, `python3~3.11`,
/// `foo@edge`.
struct Dependency {
    bool conflict = false; ///< written with a leading '!': the package must not be installed
    std::string name;      ///< a package name or a provided name (`so:`, `cmd:`, `pc:` ...)
    Op op = Op::any;
    std::string version; ///< empty for Op::any; a package hash for Op::checksum
    std::string tag;     ///< the repository pinned with "@tag" (world only), without the '@'
};

/// Parses one dependency token. Returns nullopt when it is malformed: empty, containing
/// whitespace or control characters, an empty name or tag, an operator parse_operator()
/// refuses, or a missing or invalid version after the operator (apk-tools 2.14 drops such a
/// token too). An APKINDEX never has tags: its readers should refuse a non-empty `tag`.
[[nodiscard]] std::optional<Dependency> parse_dependency(std::string_view token);

/// The dependency written back as apk writes it: `[!]name[@tag][op version]`.
[[nodiscard]] std::string format_dependency(const Dependency& dependency);

} // namespace distill::distro::alpine
