package platform

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"contract example", "Đăng ký kinh doanh", "dang ky kinh doanh"},
		{"already folded", "dang ky kinh doanh", "dang ky kinh doanh"},
		{"upper case and double space", "dang ky  KINH doanh", "dang ky kinh doanh"},
		{"lower đ", "đất đai", "dat dai"},
		{"upper Đ", "ĐỒNG NAI", "dong nai"},
		{"all tones on a", "a à á ả ã ạ ă ằ ắ ẳ ẵ ặ â ầ ấ ẩ ẫ ậ", "a a a a a a a a a a a a a a a a a a"},
		{"ơ and ư", "Thành phố Hồ Chí Minh, Cần Thơ, Thừa Thiên Huế", "thanh pho ho chi minh, can tho, thua thien hue"},
		{"decomposed input", norm.NFD.String("Hà Nội"), "ha noi"},
		{"leading and trailing space", "  \tHà Nội \n ", "ha noi"},
		{"tabs and newlines collapse", "Hà\t\tNội\nmới", "ha noi moi"},
		{"non-breaking space", "Hà\u00a0Nội", "ha noi"},
		{"digits and punctuation kept", "Thủ tục 1.001234/QĐ", "thu tuc 1.001234/qd"},
		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"only a combining mark", "\u0301", ""},
		{"invalid byte before a marked letter", "0000\xf0ā", "0000\ufffda"},
		{"invalid bytes kept as replacement", "a\x80b", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldContractExample(t *testing.T) {
	a, b := Fold("Đăng ký kinh doanh"), Fold("dang ky  KINH doanh")
	if a != b {
		t.Errorf("Fold(%q) = %q and Fold(%q) = %q, want equal", "Đăng ký kinh doanh", a, "dang ky  KINH doanh", b)
	}
}

func TestNFC(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"NFD becomes NFC", norm.NFD.String("Đăng ký kinh doanh"), "Đăng ký kinh doanh"},
		{"NFC stays", "Đăng ký kinh doanh", "Đăng ký kinh doanh"},
		{"mixed marks order", "a\u0323\u0302", "ậ"}, // dot below then circumflex
		{"other mark order", "a\u0302\u0323", "ậ"},  // circumflex then dot below
		{"trims space", "  Hà Nội\n", "Hà Nội"},
		{"keeps inner space", "Hà  Nội", "Hà  Nội"},
		{"keeps case", "HÀ NỘI", "HÀ NỘI"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NFC(tt.in)
			if got != tt.want {
				t.Errorf("NFC(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !norm.NFC.IsNormalString(got) {
				t.Errorf("NFC(%q) = %q is not in NFC", tt.in, got)
			}
		})
	}
	if a, b := NFC(norm.NFD.String("Nguyễn Thị Ánh")), NFC("Nguyễn Thị Ánh"); a != b {
		t.Errorf("NFC(NFD input) = %q, NFC(NFC input) = %q, want equal", a, b)
	}
}

func TestMatchAllWords(t *testing.T) {
	text := Fold("Đăng ký thành lập doanh nghiệp tư nhân")
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"all words", "dang ky doanh nghiep", true},
		{"words in another order", "doanh nghiep dang ky", true},
		{"with diacritics in the query", "Đăng Ký", true},
		{"prefix of a word", "thanh lap doanh ngh", true},
		{"one word missing", "dang ky ho kinh doanh", false},
		{"unrelated", "xuat nhap canh", false},
		{"empty query matches", "", true},
		{"spaces only query matches", "   ", true},
		{"single word", "tu", true},
		{"single word absent", "cong", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchAllWords(text, Fold(tt.query)); got != tt.want {
				t.Errorf("MatchAllWords(%q, Fold(%q)) = %v, want %v", text, tt.query, got, tt.want)
			}
		})
	}
	if MatchAllWords("", "a") {
		t.Errorf("MatchAllWords(\"\", \"a\") = true, want false")
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{
		"", " ", "Đăng ký kinh doanh", "dang ky  KINH doanh", norm.NFD.String("Hồ Chí Minh"),
		"\u0301a", "a\u0301\u0323", "İstanbul", "ǅ", "ẞ", "K", "Ω", "Å", "\u00a0x\u2003y\u3000",
		"\xff\xfe", "a\x80b", "0000000000\xf0ā", "\t\n\r\v\f", "각", "ᄀ\u1161", "ﬁ", "\u0345", "ΐ", "ᾼ", "\u0E33",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Fold(s)
		if twice := Fold(once); twice != once {
			t.Fatalf("Fold not idempotent: Fold(%q) = %q, Fold(that) = %q", s, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Fatalf("Fold(%q) = %q is not valid UTF-8", s, once)
		}
		if strings.HasPrefix(once, " ") || strings.HasSuffix(once, " ") || strings.Contains(once, "  ") {
			t.Fatalf("Fold(%q) = %q has leading, trailing or doubled spaces", s, once)
		}
		if strings.ContainsAny(once, "đĐ") {
			t.Fatalf("Fold(%q) = %q still contains đ", s, once)
		}
		if !MatchAllWords(once, once) {
			t.Fatalf("MatchAllWords(%q, itself) = false", once)
		}
	})
}
