// Lexer: splits a PromQL expression into tokens (identifiers, keywords, numbers,
// durations, strings, operators), skipping whitespace and # comments. Positions are byte
// offsets into the input; errors carry them.
//
// Thread-safety: values; a Lexer is used by one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb::promql {

enum class Tok {
  kEOF, kIdent, kNumber, kDuration, kString,
  kLParen, kRParen, kLBrace, kRBrace, kLBracket, kRBracket, kComma, kColon, kAt,
  kAssign,                                  // = (matcher)
  kAdd, kSub, kMul, kDiv, kMod, kPow,       // arithmetic
  kEql, kNeq, kLss, kLte, kGtr, kGte,       // comparison (kEql is ==)
  kRegexMatch, kRegexNoMatch,               // =~ !~
};

struct Token {
  Tok type = Tok::kEOF;
  size_t pos = 0;     // byte offset of the first character
  std::string text;   // identifiers, raw number/duration text; strings: the unquoted value
  double number = 0;  // kNumber: the value; kDuration: milliseconds
};

// Tokenizes `input`. Errors: InvalidArgument "line:col: parse error: ..." for unterminated
// strings, bad escapes, bad numbers and unexpected characters.
Result<std::vector<Token>> Lex(std::string_view input);

// "line:col" (1-based) of byte offset `pos` in `input`.
std::string PositionString(std::string_view input, size_t pos);

// Parses a Prometheus duration literal ("5m", "1h30m", "500ms") to milliseconds; false if
// it is not one.
bool ParseDurationLiteral(std::string_view text, int64_t* ms);

}  // namespace sb::promql
