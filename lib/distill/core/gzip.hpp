#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/digest.hpp>

namespace distill::core {

/// The expanded bytes of gzip data (every member of a multi-member file), with zlib. Corrupt
/// data is an Error naming `origin`.
[[nodiscard]] std::string gunzip(std::string_view data, std::string_view origin);

/// Reads concatenated gzip members one at a time from a stream, with zlib, never holding a
/// member whole: the expanded bytes of each member, where each member starts and ends in the
/// compressed stream, and (through hash_raw) its compressed bytes for hashing. Formats that
/// sign or identify a member by the hash of its compressed bytes (Alpine's apk v2) need all
/// three. Corrupt or cut-short data is an Error naming `origin` and the member.
class GzipMembers {
public:
    /// Fills `buffer` with the next compressed bytes; returns how many (0 at the end).
    using Source = std::function<std::size_t(std::span<char> buffer)>;

    /// Reads from `source`; more than `max_members` members is an Error.
    GzipMembers(Source source, std::string origin, std::size_t max_members);
    ~GzipMembers();
    GzipMembers(const GzipMembers&) = delete;
    GzipMembers& operator=(const GzipMembers&) = delete;
    GzipMembers(GzipMembers&&) = delete;
    GzipMembers& operator=(GzipMembers&&) = delete;

    /// No bound on the expanded bytes next_member() may skip.
    static constexpr std::uint64_t k_unbounded = std::numeric_limits<std::uint64_t>::max();

    /// Moves to the next member: true when there is one, false at the end of the stream. What
    /// the current member still holds is expanded and skipped (its compressed bytes are still
    /// hashed); more than `max_unread` expanded bytes left unread is an Error, so that a
    /// reader that stopped early cannot be made to expand a bomb it never looks at.
    bool next_member(std::uint64_t max_unread = k_unbounded);

    /// Fills `buffer` with the next expanded bytes of the current member; returns how many,
    /// 0 at the member's end.
    std::size_t read(std::span<char> buffer);

    /// Feeds the compressed bytes of the current member, from where reading stands (call it
    /// right after next_member() for the whole member), into `hasher` until the member ends.
    /// The hasher must outlive the member.
    void hash_raw(Hasher& hasher);

    /// Whether the current member has been read to its end.
    [[nodiscard]] bool member_ended() const noexcept { return m_ended; }
    /// The current member's number, from 1 (0 before the first).
    [[nodiscard]] std::size_t member() const noexcept { return m_member; }
    /// Where the current member starts in the compressed stream.
    [[nodiscard]] std::uint64_t member_start() const noexcept { return m_start; }
    /// How many compressed bytes the members read so far span: the current member's end once
    /// member_ended().
    [[nodiscard]] std::uint64_t position() const noexcept { return m_position; }

private:
    /// Refills the compressed buffer when it is empty; false at the end of the stream.
    bool fill();

    struct Stream;
    Source m_source;
    std::string m_origin;
    std::size_t m_max_members;
    std::unique_ptr<Stream> m_stream;
    std::vector<char> m_input;
    std::vector<Hasher*> m_hashers;
    std::size_t m_member = 0;
    bool m_ended = true;
    bool m_source_done = false;
    std::uint64_t m_start = 0;
    std::uint64_t m_position = 0;
};

} // namespace distill::core
