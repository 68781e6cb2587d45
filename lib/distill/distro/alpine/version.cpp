#include <array>
#include <cstdint>

#include <fmt/format.h>

#include <distill/core/error.hpp>
#include <distill/distro/alpine/version.hpp>

namespace distill::distro::alpine {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/// The kinds of tokens, in apk's order: where two versions first differ in the kind of token,
/// the one with the later kind is older (except that a pre-release suffix is older still).
enum class Kind : std::uint8_t {
    initial,       ///< the leading number
    digit,         ///< ".N"
    letter,        ///< one lower-case letter after the numbers
    suffix,        ///< "_alpha" ... "_p"
    suffix_number, ///< the number after a suffix
    hash,          ///< "~" and a commit hash (hex)
    revision,      ///< "-rN"
    end,
    invalid,
};

/// The suffixes in their order; the first k_pre_releases are older than no suffix.
constexpr std::array<std::string_view, 9> k_suffixes = {"alpha", "beta", "pre", "rc", "cvs",
                                                        "svn",   "git",  "hg",  "p"};
constexpr std::size_t k_pre_releases = 4;

struct Token {
    Kind kind = Kind::initial;
    std::string_view text;  ///< the digits, letter, suffix name or hash
    std::size_t suffix = 0; ///< index in k_suffixes, for Kind::suffix
};

std::size_t span(std::string_view text, bool (*accept)(char)) {
    std::size_t n = 0;
    while (n < text.size() && accept(text[n])) {
        ++n;
    }
    return n;
}

/// Splits a version into tokens one at a time, checking at each step that the token may
/// follow the previous one; the first that may not (or cannot be read) is Kind::invalid, and
/// the tokenizer stops there.
class Tokenizer {
public:
    explicit Tokenizer(std::string_view text)
        : m_rest(text) {
        take_digits(Kind::initial);
    }

    [[nodiscard]] const Token& token() const { return m_token; }

    void advance() {
        if (m_token.kind >= Kind::end) {
            return;
        }
        if (m_rest.empty()) {
            m_token = {Kind::end, {}, 0};
            return;
        }
        const Kind previous = m_token.kind;
        const char c = m_rest.front();
        if (is_lower(c)) {
            if (previous > Kind::digit) {
                return invalid();
            }
            m_token = {Kind::letter, m_rest.substr(0, 1), 0};
            m_rest.remove_prefix(1);
        } else if (c == '.') {
            if (previous > Kind::digit) {
                return invalid();
            }
            m_rest.remove_prefix(1);
            take_digits(Kind::digit);
        } else if (is_digit(c)) {
            // Digits are read whole, so a number follows a number only after a '.'; here one
            // can only be a suffix's number.
            if (previous != Kind::suffix) {
                return invalid();
            }
            take_digits(Kind::suffix_number);
        } else if (c == '_') {
            if (previous > Kind::suffix_number) {
                return invalid();
            }
            m_rest.remove_prefix(1);
            const auto name = m_rest.substr(0, span(m_rest, is_lower));
            m_rest.remove_prefix(name.size());
            std::size_t index = 0;
            while (index < k_suffixes.size() && k_suffixes[index] != name) {
                ++index;
            }
            if (index == k_suffixes.size()) {
                return invalid();
            }
            m_token = {Kind::suffix, name, index};
        } else if (c == '~') {
            if (previous >= Kind::hash) {
                return invalid();
            }
            m_rest.remove_prefix(1);
            const auto hash = m_rest.substr(0, span(m_rest, is_hex));
            if (hash.empty()) {
                return invalid();
            }
            m_rest.remove_prefix(hash.size());
            m_token = {Kind::hash, hash, 0};
        } else if (c == '-') {
            if (previous >= Kind::revision || m_rest.substr(0, 2) != "-r") {
                return invalid();
            }
            m_rest.remove_prefix(2);
            take_digits(Kind::revision);
        } else {
            invalid();
        }
    }

private:
    void take_digits(Kind kind) {
        const auto digits = m_rest.substr(0, span(m_rest, is_digit));
        if (digits.empty()) {
            return invalid();
        }
        m_rest.remove_prefix(digits.size());
        m_token = {kind, digits, 0};
    }

    void invalid() { m_token = {Kind::invalid, {}, 0}; }

    std::string_view m_rest;
    Token m_token;
};

int sign(int value) {
    return (value > 0) - (value < 0);
}

std::string_view strip_zeros(std::string_view digits) {
    while (digits.size() > 1 && digits.front() == '0') {
        digits.remove_prefix(1);
    }
    return digits;
}

/// Numbers by value, whatever their length.
int compare_numbers(std::string_view a, std::string_view b) {
    a = strip_zeros(a);
    b = strip_zeros(b);
    if (a.size() != b.size()) {
        return a.size() < b.size() ? -1 : 1;
    }
    return sign(a.compare(b));
}

/// Two tokens of the same kind.
int compare_values(const Token& a, const Token& b) {
    switch (a.kind) {
    case Kind::digit:
        // A component after a dot with a leading zero compares as a string (Gentoo's rule,
        // which apk follows), so "1.01" < "1.1" and "1.0" < "1.00".
        if (a.text.front() == '0' || b.text.front() == '0') {
            return sign(a.text.compare(b.text));
        }
        return compare_numbers(a.text, b.text);
    case Kind::initial:
    case Kind::suffix_number:
    case Kind::revision:
        return compare_numbers(a.text, b.text);
    case Kind::suffix:
        return a.suffix == b.suffix ? 0 : (a.suffix < b.suffix ? -1 : 1);
    case Kind::letter:
    case Kind::hash:
    case Kind::end:
    case Kind::invalid:
        return sign(a.text.compare(b.text));
    }
    return 0;
}

bool is_pre_release(const Token& token) {
    return token.kind == Kind::suffix && token.suffix < k_pre_releases;
}

/// apk's comparison; with `fuzzy`, a version whose tokens start with all of b's is equal.
int compare(std::string_view a, std::string_view b, bool fuzzy) {
    Tokenizer ta(a);
    Tokenizer tb(b);
    while (ta.token().kind == tb.token().kind && ta.token().kind < Kind::end) {
        if (const int r = compare_values(ta.token(), tb.token()); r != 0) {
            return r;
        }
        ta.advance();
        tb.advance();
    }
    const Kind ka = ta.token().kind;
    const Kind kb = tb.token().kind;
    if (ka == kb || (fuzzy && kb == Kind::end)) {
        return 0;
    }
    // Where one version goes on and the other does not (or goes on differently), the one
    // that goes on is newer unless it goes on with a pre-release suffix.
    if (is_pre_release(ta.token())) {
        return -1;
    }
    if (is_pre_release(tb.token())) {
        return 1;
    }
    return ka > kb ? -1 : 1;
}

// The sortable form. Every token becomes a marker and its value; dpkg compares the markers
// character by character ('~' before the end of the string, then upper-case letters, then
// lower-case, then '+', then '.') and the numbers by value. The markers are ordered as apk
// orders the kinds of tokens where two versions first differ, so comparing two sortable
// strings decides at the first token where the versions differ, as apk does:
//   pre-release suffix "~A".."~D" (alpha beta pre rc) < end < "R" revision < "S" hash
//   < "T" suffix number < "U".."Y" (cvs svn git hg p) < "Z" letter < "z" zero-led digits
//   < "+" digits
// A number follows its marker and ends at the next marker. Strings that compare as strings
// (hashes, components with a leading zero) are spelled in lower-case letters that keep their
// order and end with "A", which sorts before any of them, so that a shorter one is older
// whatever follows it. No piece is a digit-led continuation of another, so a shared prefix of
// tokens is a shared prefix of the strings, and fuzzy_bounds() can bracket it with '~'
// (before anything that can follow) and '.' (after anything that can follow).
constexpr char k_string_end = 'A';
constexpr char k_before_any = '~';
constexpr char k_after_any = '.';

void append_number(std::string& out, std::string_view digits) {
    out += strip_zeros(digits);
}

/// '0'-'9' to 'a'-'j' and 'a'-'f' to 'k'-'p', then the end mark.
void append_string(std::string& out, std::string_view text) {
    for (const char c : text) {
        out +=
            is_digit(c) ? static_cast<char>('a' + (c - '0')) : static_cast<char>('k' + (c - 'a'));
    }
    out += k_string_end;
}

void append_token(std::string& out, const Token& token) {
    switch (token.kind) {
    case Kind::initial:
        append_number(out, token.text);
        return;
    case Kind::digit:
        if (token.text.front() == '0') {
            out += 'z';
            append_string(out, token.text);
        } else {
            out += '+';
            append_number(out, token.text);
        }
        return;
    case Kind::letter:
        out += 'Z';
        out += token.text;
        return;
    case Kind::suffix:
        if (token.suffix < k_pre_releases) {
            out += '~';
            out += static_cast<char>('A' + token.suffix);
        } else {
            out += static_cast<char>('U' + (token.suffix - k_pre_releases));
        }
        return;
    case Kind::suffix_number:
        out += 'T';
        append_number(out, token.text);
        return;
    case Kind::hash:
        out += 'S';
        append_string(out, token.text);
        return;
    case Kind::revision:
        out += 'R';
        append_number(out, token.text);
        return;
    case Kind::end:
    case Kind::invalid:
        return;
    }
}

std::string checked_sortable(std::string_view version, const char* what) {
    if (!is_valid_version(version)) {
        throw Error(fmt::format("{} '{}' is not a valid apk version", what, version));
    }
    std::string out;
    out.reserve(version.size() * 2);
    for (Tokenizer tokens(version); tokens.token().kind < Kind::end; tokens.advance()) {
        append_token(out, tokens.token());
    }
    return out;
}

constexpr int k_less = 1;
constexpr int k_equal = 2;
constexpr int k_greater = 4;
constexpr int k_fuzzy = 8;

int op_mask(Op op) {
    switch (op) {
    case Op::any:
        return k_less | k_equal | k_greater;
    case Op::equal:
        return k_equal;
    case Op::less:
        return k_less;
    case Op::less_equal:
        return k_less | k_equal;
    case Op::greater:
        return k_greater;
    case Op::greater_equal:
        return k_greater | k_equal;
    case Op::fuzzy:
        return k_fuzzy | k_equal;
    case Op::fuzzy_less_equal:
        return k_fuzzy | k_less | k_equal;
    case Op::fuzzy_greater_equal:
        return k_fuzzy | k_greater | k_equal;
    case Op::checksum:
        return k_less | k_greater;
    }
    return 0;
}

bool is_comparer(char c) {
    return c == '<' || c == '>' || c == '=' || c == '~';
}

/// Printable ASCII other than space, as apk's names and versions are.
bool is_graphic(char c) {
    return c > ' ' && c < 0x7f;
}

} // namespace

int compare_versions(std::string_view a, std::string_view b) {
    return compare(a, b, false);
}

bool is_valid_version(std::string_view version) {
    if (version.size() > k_max_version_length) {
        return false;
    }
    Tokenizer tokens(version);
    while (tokens.token().kind < Kind::end) {
        tokens.advance();
    }
    return tokens.token().kind == Kind::end;
}

std::string sortable_version(std::string_view version) {
    return checked_sortable(version, "version");
}

std::string from_sortable_version(std::string_view sortable) {
    const auto bad = [&] {
        return Error(fmt::format("'{}' is not the sortable form of an apk version", sortable));
    };
    std::size_t at = 0;
    const auto number = [&] {
        const auto start = at;
        while (at < sortable.size() && is_digit(sortable[at])) {
            ++at;
        }
        if (at == start) {
            throw bad();
        }
        return sortable.substr(start, at - start);
    };
    // The lower-case spelling of a string token (append_string()), up to its end mark.
    const auto string = [&](bool hex) {
        std::string text;
        while (at < sortable.size() && sortable[at] != k_string_end) {
            const char c = sortable[at++];
            if (c >= 'a' && c <= 'j') {
                text += static_cast<char>('0' + (c - 'a'));
            } else if (hex && c >= 'k' && c <= 'p') {
                text += static_cast<char>('a' + (c - 'k'));
            } else {
                throw bad();
            }
        }
        if (at == sortable.size() || text.empty()) {
            throw bad();
        }
        ++at; // the end mark
        return text;
    };
    std::string version(number());
    while (at < sortable.size()) {
        const char marker = sortable[at++];
        if (marker == '+') {
            version += ".";
            version += number();
        } else if (marker == 'z') {
            version += "." + string(false);
        } else if (marker == 'Z' && at < sortable.size() && sortable[at] >= 'a' &&
                   sortable[at] <= 'z') {
            version += sortable[at++];
        } else if (marker == '~' && at < sortable.size() && sortable[at] >= 'A' &&
                   static_cast<std::size_t>(sortable[at] - 'A') < k_pre_releases) {
            version += "_";
            version += k_suffixes[static_cast<std::size_t>(sortable[at++] - 'A')];
        } else if (marker >= 'U' &&
                   static_cast<std::size_t>(marker - 'U') < k_suffixes.size() - k_pre_releases) {
            version += "_";
            version += k_suffixes[k_pre_releases + static_cast<std::size_t>(marker - 'U')];
        } else if (marker == 'T') {
            version += number();
        } else if (marker == 'S') {
            version += "~" + string(true);
        } else if (marker == 'R') {
            version += "-r";
            version += number();
        } else {
            throw bad();
        }
    }
    return version;
}

bool fuzzy_match(std::string_view version, std::string_view pattern) {
    return compare(version, pattern, true) == 0;
}

std::pair<std::string, std::string> fuzzy_bounds(std::string_view pattern) {
    const std::string prefix = checked_sortable(pattern, "fuzzy match pattern");
    return {prefix + k_before_any, prefix + k_after_any};
}

std::optional<Op> parse_operator(std::string_view text) {
    int mask = 0;
    for (const char c : text) {
        switch (c) {
        case '<':
            mask |= k_less;
            break;
        case '>':
            mask |= k_greater;
            break;
        case '=':
            mask |= k_equal;
            break;
        case '~':
            mask |= k_fuzzy | k_equal;
            break;
        default:
            return std::nullopt;
        }
    }
    for (const Op op : {Op::equal, Op::less, Op::less_equal, Op::greater, Op::greater_equal,
                        Op::fuzzy, Op::fuzzy_less_equal, Op::fuzzy_greater_equal, Op::checksum}) {
        if (op_mask(op) == mask) {
            return op;
        }
    }
    return std::nullopt;
}

std::string_view operator_text(Op op) {
    switch (op) {
    case Op::any:
        return "";
    case Op::equal:
        return "=";
    case Op::less:
        return "<";
    case Op::less_equal:
        return "<=";
    case Op::greater:
        return ">";
    case Op::greater_equal:
        return ">=";
    case Op::fuzzy:
        return "~";
    case Op::fuzzy_less_equal:
        return "<~";
    case Op::fuzzy_greater_equal:
        return ">~";
    case Op::checksum:
        return "><";
    }
    return "?";
}

bool version_matches(std::string_view version, Op op, std::string_view reference) {
    if (op == Op::any) {
        return true;
    }
    if (op == Op::checksum) {
        return false;
    }
    const int mask = op_mask(op);
    const int r = compare(version, reference, (mask & k_fuzzy) != 0);
    return (mask & (r < 0 ? k_less : (r > 0 ? k_greater : k_equal))) != 0;
}

std::optional<Dependency> parse_dependency(std::string_view token) {
    for (const char c : token) {
        if (!is_graphic(c)) {
            return std::nullopt;
        }
    }
    Dependency dependency;
    if (!token.empty() && token.front() == '!') {
        dependency.conflict = true;
        token.remove_prefix(1);
    }
    std::size_t name_end = 0;
    while (name_end < token.size() && !is_comparer(token[name_end])) {
        ++name_end;
    }
    std::string_view name = token.substr(0, name_end);
    std::string_view rest = token.substr(name_end);
    if (const auto at = name.find('@'); at != std::string_view::npos) {
        const auto tag = name.substr(at + 1);
        name = name.substr(0, at);
        if (tag.empty()) {
            return std::nullopt;
        }
        dependency.tag = tag;
    }
    if (name.empty() || name.find('!') != std::string_view::npos) {
        return std::nullopt;
    }
    dependency.name = name;
    if (!rest.empty()) {
        std::size_t op_end = 0;
        while (op_end < rest.size() && is_comparer(rest[op_end])) {
            ++op_end;
        }
        const auto op = parse_operator(rest.substr(0, op_end));
        const auto version = rest.substr(op_end);
        if (!op || version.empty()) {
            return std::nullopt;
        }
        // A checksum is a package hash, not a version; anything else must be a version apk
        // can compare.
        if (*op != Op::checksum && !is_valid_version(version)) {
            return std::nullopt;
        }
        dependency.op = *op;
        dependency.version = version;
    }
    return dependency;
}

std::string format_dependency(const Dependency& dependency) {
    std::string out = dependency.conflict ? "!" : "";
    out += dependency.name;
    if (!dependency.tag.empty()) {
        out += '@';
        out += dependency.tag;
    }
    if (dependency.op != Op::any) {
        out += operator_text(dependency.op);
        out += dependency.version;
    }
    return out;
}

} // namespace distill::distro::alpine
