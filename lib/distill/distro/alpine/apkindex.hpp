#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The repository index of apk v2: APKINDEX.tar.gz holds a signature tar and then a tar with
// DESCRIPTION and APKINDEX, whose text is records of `X:value` lines separated by blank lines.
// Nothing here checks a signature: the archive comes in already verified. What is checked is
// what a signed but hostile (or broken) index could still do: be too large, hold fields that
// break messages or paths, or numbers that overflow. Every refusal is a VerificationError
// naming the index and the line.
namespace distill::distro::alpine {

/// One record of an APKINDEX: the fields distill uses, as the index writes them.
struct IndexEntry {
    std::string checksum;                           ///< C: as written ("Q1" + base64 of a SHA-1)
    std::string name;                               ///< P:
    std::string version;                            ///< V:
    std::string arch;                               ///< A:
    std::uint64_t size = 0;                         ///< S: bytes of the .apk
    std::uint64_t installed_size = 0;               ///< I:
    std::string description;                        ///< T:
    std::string url;                                ///< U:
    std::string license;                            ///< L:
    std::string origin;                             ///< o:
    std::string maintainer;                         ///< m:
    std::int64_t build_time = 0;                    ///< t:
    std::string commit;                             ///< c:
    std::vector<std::string> depends;               ///< D: tokens as written
    std::vector<std::string> provides;              ///< p:
    std::vector<std::string> install_if;            ///< i:
    std::vector<std::string> replaces;              ///< r: (if present)
    std::optional<std::uint32_t> provider_priority; ///< k:
    std::size_t line = 0; ///< line of the record's first field, for messages
};

/// The packages of one APKINDEX, in the order the index lists them.
struct Index {
    std::vector<IndexEntry> packages;
};

/// Bounds on one index, far above what Alpine's largest indexes need (v3.19 community: 17,587
/// records, 7.6 MB, lines up to 24 KB, 509 tokens in one field).
struct IndexLimits {
    std::size_t max_records = 1'000'000;
    std::size_t max_line = 256U << 10U;  ///< bytes of one line
    std::size_t max_total = 256U << 20U; ///< bytes of the whole text
    std::size_t max_tokens = 16384;      ///< tokens of one D:, p:, i: or r: field
    std::size_t max_token = 1024;        ///< bytes of one such token
    std::size_t max_name = 255;          ///< bytes of P: (and A:)
    std::size_t max_version = 255;       ///< bytes of V:
};

/// Parses the text of an APKINDEX file. `origin` names it in errors
/// ("…/APKINDEX.tar.gz: APKINDEX"). Throws a VerificationError naming the line when the text
/// breaks a bound or holds a malformed record: a line that is not `X:value`, a control
/// character, a record without P:, V: or C:, a package name outside Alpine's grammar, a C:
/// that is not "Q1" + base64 of 20 bytes, a number that is not plain decimal digits or does
/// not fit. As apk does, a repeated scalar field keeps its last value, a repeated D:, p:, i:
/// or r: adds its tokens to the earlier ones, unknown lowercase fields are ignored, and a
/// record with an unknown field of any other letter is one apk cannot install: it is left out.
[[nodiscard]] Index parse_index(std::string_view text, std::string_view origin);

/// parse_index() with other bounds (the tests use small ones).
[[nodiscard]] Index parse_index(std::string_view text, std::string_view origin,
                                const IndexLimits& limits);

/// The text of the DESCRIPTION and APKINDEX entries of an APKINDEX.tar.gz.
struct IndexFiles {
    std::string description;
    std::string apkindex;
    /// The modification time of the APKINDEX entry (seconds since the epoch): when the index
    /// was made. The signature covers the tar header that holds it.
    std::int64_t made = 0;
};

/// The text of APKINDEX and DESCRIPTION inside an (already verified) APKINDEX.tar.gz held in
/// memory, read with libarchive: gzip members concatenated, the first tar (the signature's)
/// without end-of-archive blocks. Refuses (VerificationError naming `origin`) data that is not
/// gzip-compressed tar, a missing or second APKINDEX, a second DESCRIPTION, an entry name that
/// is absolute or climbs with `..`, an APKINDEX or DESCRIPTION that is not a regular file, and
/// more than 256 MiB expanded or 64 entries.
[[nodiscard]] IndexFiles read_index_archive(std::string_view tar_gz, std::string_view origin);

} // namespace distill::distro::alpine
