// A strict JSON reader for the tests (RFC 8259: no trailing commas, no comments, no unquoted
// keys, nothing after the document), small enough to trust: it turns the --profile file into
// values the tests can walk. Numbers keep their text too, so times in microseconds with
// nanosecond digits compare exactly.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace thalia::testing {

struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool boolean = false;
  std::string text;  // a string's value, or a number as written
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  bool Has(const std::string& key) const { return type == kObject && fields.count(key) != 0; }
  const Json& operator[](const std::string& key) const {
    static const Json null;
    auto it = fields.find(key);
    return type == kObject && it != fields.end() ? it->second : null;
  }
  double Number() const { return std::strtod(text.c_str(), nullptr); }
  // A number of microseconds with at most 3 decimals, as integer nanoseconds.
  int64_t Nanos() const {
    const size_t dot = text.find('.');
    std::string whole = text.substr(0, dot), frac = dot == std::string::npos ? "" : text.substr(dot + 1);
    frac.resize(3, '0');
    const bool negative = !whole.empty() && whole[0] == '-';
    const int64_t w = std::llabs(std::strtoll(whole.c_str(), nullptr, 10));
    const int64_t ns = w * 1000 + std::strtoll(frac.c_str(), nullptr, 10);
    return negative ? -ns : ns;
  }
};

class JsonReader {
 public:
  // False (and error() says where) unless `text` is exactly one JSON value.
  bool Parse(const std::string& text, Json* out) {
    s_ = &text;
    i_ = 0;
    if (!Value(out, 0)) return false;
    Space();
    return i_ == s_->size() || Fail("text after the document");
  }
  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& what) {
    error_ = what + " at offset " + std::to_string(i_);
    return false;
  }
  void Space() {
    while (i_ < s_->size() && ((*s_)[i_] == ' ' || (*s_)[i_] == '\n' || (*s_)[i_] == '\r' || (*s_)[i_] == '\t')) ++i_;
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_->size() && (*s_)[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Literal(const char* word) {
    const std::string w = word;
    if (s_->compare(i_, w.size(), w) != 0) return Fail("bad literal");
    i_ += w.size();
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return Fail("expected a string");
    while (i_ < s_->size()) {
      const char c = (*s_)[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (i_ >= s_->size()) break;
      const char e = (*s_)[i_++];
      const std::string simple = "\"\\/bfnrt", value = "\"\\/\b\f\n\r\t";
      if (const size_t k = simple.find(e); k != std::string::npos) {
        *out += value[k];
      } else if (e == 'u') {
        if (i_ + 4 > s_->size()) break;
        for (int k = 0; k < 4; ++k)
          if (!std::isxdigit(static_cast<unsigned char>((*s_)[i_ + k]))) return Fail("bad \\u escape");
        *out += '?';  // the tests need no code points
        i_ += 4;
      } else {
        return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }
  bool Digits() {
    const size_t from = i_;
    while (i_ < s_->size() && std::isdigit(static_cast<unsigned char>((*s_)[i_]))) ++i_;
    return i_ > from;
  }
  bool Number(Json* out) {
    const size_t from = i_;
    if ((*s_)[i_] == '-') ++i_;
    if (i_ < s_->size() && (*s_)[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return Fail("bad number");
    }
    if (i_ < s_->size() && (*s_)[i_] == '.') {
      ++i_;
      if (!Digits()) return Fail("bad fraction");
    }
    if (i_ < s_->size() && ((*s_)[i_] == 'e' || (*s_)[i_] == 'E')) {
      ++i_;
      if (i_ < s_->size() && ((*s_)[i_] == '+' || (*s_)[i_] == '-')) ++i_;
      if (!Digits()) return Fail("bad exponent");
    }
    out->type = Json::kNumber;
    out->text = s_->substr(from, i_ - from);
    return true;
  }
  bool Value(Json* out, int depth) {
    if (depth > 64) return Fail("nested too deep");
    Space();
    if (i_ >= s_->size()) return Fail("unexpected end");
    const char c = (*s_)[i_];
    if (c == '{') {
      ++i_;
      out->type = Json::kObject;
      if (Eat('}')) return true;
      do {
        std::string key;
        if (!String(&key)) return false;
        if (!Eat(':')) return Fail("expected ':'");
        if (out->fields.count(key)) return Fail("duplicate key " + key);
        if (!Value(&out->fields[key], depth + 1)) return false;
      } while (Eat(','));
      return Eat('}') || Fail("expected '}'");
    }
    if (c == '[') {
      ++i_;
      out->type = Json::kArray;
      if (Eat(']')) return true;
      do {
        out->items.emplace_back();
        if (!Value(&out->items.back(), depth + 1)) return false;
      } while (Eat(','));
      return Eat(']') || Fail("expected ']'");
    }
    if (c == '"') {
      out->type = Json::kString;
      return String(&out->text);
    }
    if (c == 't' || c == 'f') {
      out->type = Json::kBool;
      out->boolean = c == 't';
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') return Literal("null");
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return Number(out);
    return Fail("unexpected character");
  }

  const std::string* s_ = nullptr;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace thalia::testing
