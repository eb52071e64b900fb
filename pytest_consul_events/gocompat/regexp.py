"""Go's ``regexp.Compile`` and ``(*regexp.Regexp).MatchString``, reproduced exactly.

Consul validates the ``node``, ``service`` and ``tag`` filters of user events with
Go's ``regexp.Compile`` and reports a failure as, for example, ``Invalid node
filter: error parsing regexp: missing closing ): `(` ``; the text after the colon
is Go's ``(*syntax.Error).Error()``.  This module reproduces that validation
(which patterns Go rejects, with which error code and which fragment of the
pattern) and Go's unanchored matching of an accepted pattern.

Reference version: Go 1.23 (Consul pins Go 1.23.x in its ``.go-version``),
whose ``unicode`` tables are Unicode 15.0.0.  Every behaviour below was checked
against a Go 1.23.9 toolchain, error text for error text and match for match.

How it works
------------
* :func:`check_syntax` is a port of ``regexp/syntax.Parse(pattern, syntax.Perl)``:
  the whole parser, not only its error paths, because three of its limits
  depend on the parse tree it builds -- nested repetition counts ("invalid
  repeat count"), tree height ("expression nests too deeply") and estimated
  program size and character-class size ("expression too large").  The tree is
  built the way Go builds it (literal merging, alternation factoring, node
  recycling), so those limits trip on the same patterns.  ``regexp.Compile``
  adds nothing that can fail after ``Parse`` (``Simplify`` and
  ``syntax.Compile`` never return an error).
* :func:`compile` turns the Go parse tree into an equivalent RE2 pattern that
  spells every character class as explicit code point ranges (Go's own
  Unicode 15.0.0 tables and case folding, embedded below), every case-folded
  literal as the class of its folding orbit, and every construct in plain RE2
  syntax.  ``google-re2`` then does the matching.  RE2 and Go's ``regexp``
  implement the same automata semantics (leftmost-first, ASCII ``\\b``, ``$``
  only at the end of the text unless ``(?m)``), and whether a match exists does
  not depend on submatch rules, so the answers agree.  Matching through the
  parse tree rather than handing the pattern text to RE2 sidesteps every
  difference between the two syntaxes: RE2-C++ accepts ``\\C`` (Go rejects it;
  :func:`check_syntax` runs first), uses its own, newer Unicode tables for
  ``\\pL``, ``\\p{Greek}`` and ``(?i)``, and counts nested repetitions through
  ``x{0}`` where Go stops.  Go-only spellings (``(?<name>x)``, ``\\Q...\\E``,
  ``[[:^alpha:]]``, ``(?U)``, ``\\z``) need no translation because the tree has
  already resolved them.
* RE2-C++ holds ``\\B`` between the bytes of a multi-byte character and
  starts unanchored matches there, which Go never does; a pattern containing
  ``\\B`` is therefore searched anchored, skipping whole characters.

What still differs or is a convention of this port
--------------------------------------------------
* Go works on UTF-8 bytes, this module on ``str``.  The two agree on every
  valid string (every byte Go inspects is ASCII, and no byte of a multi-byte
  sequence is ASCII).  Bytes that are not valid UTF-8 have no ``str`` form; a
  caller holding raw bytes should decode them with ``errors="surrogateescape"``
  and pass the result: the escaped bytes are then read back as the bytes they
  stand for, so Go's "invalid UTF-8" error is raised at the same place, with
  the fragment holding the escapes where Go's holds the bytes, and such bytes
  in *text* match as U+FFFD, as in Go.  Any other lone surrogate counts as one
  invalid byte.
* RE2 builds its automaton within a memory budget (256 MiB here), and it
  spends hundreds of instructions on a class Go's size limit counts as one.
  Go accepts ``(?:\\pL\\pL...){1000}`` with 16 ``\\pL``, RE2 cannot build it;
  :func:`compile` then raises :class:`GoRegexpEngineError`, not
  :class:`GoRegexpError`, because Go would have accepted the pattern.  Such
  patterns also take seconds to compile.
* Other Go versions differ from 1.23 in ways not reproduced: Go 1.21 and
  earlier reject ``(?<name>x)``, Go 1.20 and earlier have Unicode 13.0.0
  tables, and Go 1.25 also accepts ``\\p{Letter}``, ``\\p{ASCII}``,
  ``\\p{Assigned}``, ``\\p{LC}``, ``\\p{Cn}`` and names differing only in case,
  spaces, hyphens or underscores.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import re2

__all__ = [
    "ERR_INTERNAL_ERROR",
    "ERR_INVALID_CHAR_CLASS",
    "ERR_INVALID_CHAR_RANGE",
    "ERR_INVALID_ESCAPE",
    "ERR_INVALID_NAMED_CAPTURE",
    "ERR_INVALID_PERL_OP",
    "ERR_INVALID_REPEAT_OP",
    "ERR_INVALID_REPEAT_SIZE",
    "ERR_INVALID_UTF8",
    "ERR_LARGE",
    "ERR_MISSING_BRACKET",
    "ERR_MISSING_PAREN",
    "ERR_MISSING_REPEAT_ARGUMENT",
    "ERR_NESTING_DEPTH",
    "ERR_TRAILING_BACKSLASH",
    "ERR_UNEXPECTED_PAREN",
    "UNICODE_CATEGORIES",
    "UNICODE_CLASS_NAMES",
    "UNICODE_SCRIPTS",
    "GoRegexp",
    "GoRegexpEngineError",
    "GoRegexpError",
    "check_syntax",
    "compile",
]

# Go's syntax.ErrorCode strings (src/regexp/syntax/parse.go).
ERR_INTERNAL_ERROR: Final = "regexp/syntax: internal error"
ERR_INVALID_CHAR_CLASS: Final = "invalid character class"
ERR_INVALID_CHAR_RANGE: Final = "invalid character class range"
ERR_INVALID_ESCAPE: Final = "invalid escape sequence"
ERR_INVALID_NAMED_CAPTURE: Final = "invalid named capture"
ERR_INVALID_PERL_OP: Final = "invalid or unsupported Perl syntax"
ERR_INVALID_REPEAT_OP: Final = "invalid nested repetition operator"
ERR_INVALID_REPEAT_SIZE: Final = "invalid repeat count"
ERR_INVALID_UTF8: Final = "invalid UTF-8"
ERR_MISSING_BRACKET: Final = "missing closing ]"
ERR_MISSING_PAREN: Final = "missing closing )"
ERR_MISSING_REPEAT_ARGUMENT: Final = "missing argument to repetition operator"
ERR_TRAILING_BACKSLASH: Final = "trailing backslash at end of expression"
ERR_UNEXPECTED_PAREN: Final = "unexpected )"
ERR_NESTING_DEPTH: Final = "expression nests too deeply"
ERR_LARGE: Final = "expression too large"


class GoRegexpError(ValueError):
    """A pattern Go's ``regexp.Compile`` rejects, as Go's ``*syntax.Error``.

    ``code`` is Go's ``ErrorCode`` text (one of the ``ERR_*`` constants) and
    ``expr`` the fragment of the pattern Go blames; ``str()`` is exactly
    Go's ``Error()``: ``error parsing regexp: <code>: `<expr>` ``.
    """

    code: str
    expr: str

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(code, expr)
        self.code = code
        self.expr = expr

    def __str__(self) -> str:
        return f"error parsing regexp: {self.code}: `{self.expr}`"


class GoRegexpEngineError(RuntimeError):
    """RE2 could not build a matcher for a pattern Go accepts (memory budget)."""


# fmt: off
UNICODE_CATEGORIES: tuple[str, ...] = (
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
)
# fmt: on
"""Keys of Go 1.23's ``unicode.Categories`` (usable as ``\\pL``, ``\\p{Lu}``)."""

# fmt: off
UNICODE_SCRIPTS: tuple[str, ...] = (
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum",
    "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese",
    "Buhid", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee",
    "Chorasmian", "Common", "Coptic", "Cuneiform", "Cypriot", "Cypro_Minoan", "Cyrillic",
    "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan", "Egyptian_Hieroglyphs", "Elbasan",
    "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek", "Gujarati",
    "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul", "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew",
    "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi", "Inscriptional_Parthian",
    "Javanese", "Kaithi", "Kannada", "Katakana", "Kawi", "Kayah_Li", "Kharoshthi",
    "Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu",
    "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Malayalam",
    "Mandaic", "Manichaean", "Marchen", "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek",
    "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian",
    "Mro", "Multani", "Myanmar", "Nabataean", "Nag_Mundari", "Nandinagari", "New_Tai_Lue", "Newa",
    "Nko", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki", "Old_Hungarian", "Old_Italic",
    "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_Sogdian", "Old_South_Arabian",
    "Old_Turkic", "Old_Uyghur", "Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene",
    "Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan",
    "Saurashtra", "Sharada", "Shavian", "Siddham", "SignWriting", "Sinhala", "Sogdian",
    "Sora_Sompeng", "Soyombo", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa",
    "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangsa", "Tangut", "Telugu", "Thaana",
    "Thai", "Tibetan", "Tifinagh", "Tirhuta", "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho",
    "Warang_Citi", "Yezidi", "Yi", "Zanabazar_Square",
)
# fmt: on
"""Keys of Go 1.23's ``unicode.Scripts`` (usable as ``\\p{Greek}``)."""

# Code point ranges of the leaf categories (two-letter names) and of the scripts, in
# the order of UNICODE_CATEGORIES / UNICODE_SCRIPTS, then the simple case-folding orbits;
# generated from Go 1.23 (Unicode 15.0.0): zlib-compressed, base85-encoded, one line per
# table of comma-separated base-36 (gap, length) pairs.
_UNICODE_BLOB = (
    "c-rk;X||&{v;5CmbbPFVX*moAJkQ4V>R(1kVD3<3cU5=w_f9ojFak-bRAgi-)pK=IX0Q6lUDRA@eN(a8$yHqAb|I(Ypt"
    "Lf%T$yK&AJ-S<)JYC`?37Wt(&=L_Pm+h+*)oyK7PrrxYSi(5QC2xOSE=gUJe3Dh<1W%!)+={Esnwy<@~L$##qcN6$sV="
    "bB6CnuH(H|;X_S#K7&POz9r`am|7(XGug!Rkzan@Uq~Y2>vmf5mlk&swS`J8Y{^6aU@1GvO<9_Sd3`Y|B;@cX3Y+o;@q"
    "ly=kRzhkk`FmCm_P|lbKT@k3rHh(%t91Fd^r!fZva|n?UjL3m*GkJ6Wf`CYO23IkH}rm`GG!|PETzw?lHc#j-2U*s{=O"
    "soPxK)dO(+Ega~{)cn4sYrhvQsG17hGhmlBqLQ&ooF(p>;$M@aD?6bER)3%J%x)NcC$DBQbA7LOAzR>^-tS+t1y)i;@s"
    "zQgF;?mqv8Rj+>*56@qGX#QbYre6i^_|3ELZ)*~cuaz0ToqqD{63prL3Y1M`yagaq)$BHMQ_G{vRtVf9QCcR=MLm_P#K"
    "0M~pxK6o=(-1sH047`VcTmtugywcI<Y_}e{pR`TW{n8{<p6kCu!QAQ|a`LzqA!iF4Gi@Acc*1^y(h1oKy~IXrvp19@}F"
    "OSY6_xLH9QRfMsB0eX!u<7#&Wa#Sc(v3$1MM0bQMNj~US6RNduWcT@VPz)_w`&(#XG;I4y_s)Sys1n<TbYG<P}sfB}g1"
    "Zr$y;_gq>c9PGfU^h197zsgJU|_)D(H!$2f6@Lsz%F~mNn<4OtzP7fUbGv0MHd*SwWhFiOaxu+j#B2jm&WN!0J3V=ah&"
    "|X=1XbTLB(6SKcbm8kxAr^!8J%dL<%%Qhjw!iG{9v6-vAE9oL`l`;nQ$H%0P5Gj>Sb?m1$MQhrKj=1Czd&rWMM&3b9&("
    "0qDKb9mfNG0rqzyR}oNP!<*1zjG1M*j*@5XGWe)?PAd_=DX+()58An=zGh(pPRqHmevBiAp!!h%tK2Qr4KdMXKs$mD@G"
    "=@Y7#zG+auB7PX{db5rsHF$(LKP_nzQ4tGWl3(A3B2uF2_!2H;Oz7#Sb)3kmzpY16F<!FO7yxw2C}yY$%$z3)eXd6nw>"
    "rAgr*jIfxh<^%T=7^^ve`SZhq3aKTt+ltiUCnG%(I&&P(*^VfR#vH#>DP)Dzak^)%}l6<MdShVb$6bII(QW?}_DFr$?s"
    "xTnB!33DYrJ&!?s*GxL4`{0IG8R_=8eLvRo*6@ZS0e8MFSt9Dd?{7PZx<?BiBc!bd$hL1yPmSfVVvjciYA-d;iUsVl?1"
    "){{Aj9yamY7nm3zC;5u*}ckJ(5oZs5s{T8MsIi>chEfW_MpT@=t3mea^f4ce&m%|`^Jmz>9@=g1^MSuB<63L!P5-zO@r"
    "SJp~8Sjyw0401+DDJZ#2esx~c_WVjJW8Vaw=eXA+Te8ZH*6%>U6h!960|}2oFwV#bT~)R%MPIhi$Vw&4iz-me+|j*3A*"
    "<1wd(CR|l-CPb1P$XOQ%l1ZSkDN>3<!o&nKQtk{P=1C#31NZQlE^-*ne>$4{8}>f#TvyO_vtQe>ZuuQeNq__M<Pw2vC9"
    "zGJGdL5F%DrONXS38!}dxvo<z69W}*DZ%b;(6*}&#FZqhd><I-*F_ssikqu*a#wXCIGun=?op9NOH<!{#0e2}a3gx7E`"
    "2hmKhYa5H5J?E`00V3JZ41UHQ)U|i1Pci3E~5-hzXr0Bi<q4!hp@D0d~n|||BaMhqp|17JofA%4_aiu0;DT`Sgsp1WEI"
    "NXP}OFL7R3Atrke<#59S1~gvQsvE@^x>PB@i&RyU`Y;H%mZr`fojZ;J^g%G09~ZOmv{0sA^9J6++^X+=!a9_Br0#4qEb"
    "`N}b%02&UyA+Wa$ReJB$vbIbeHXtOi%pIx2?4``*Bt=C<#Jab_&URPTVDeEZ5;<L<-X&zSR=D4HKtI@O*UJoVFgi85ov"
    "EZ3)9OvqHCPmkR;~)ssB?_zkVtzR8DOrGGjP3rV8|aZyANMks_IU9wDBWl$EhLHT{MN0389*4?8?tkJ5tW{LyX6~EB|>"
    "c!;aj<PQI5D);)qbUfab*^^Y9{o7PfWLKD<#pv*~($0AdWXi9t&LJP`kvnHxGlYpAWDZVZyeq<d;k4*P@Br{KN;Y$0PP"
    "&(#c5%T%I=YLl?bxLGRFv-KU8)5kU5WdR4NYI?K%YJ7_(|)In>_6!BWugCeM7(#;%_NeUkFJ@S2&*MG({uL3{BU44nMm"
    "8x<kx>#X!C0!O#6pNR%okCR!jpbYtTb+xY8lqnce?CVEHfA%wN@q^h02?dRGR&8%-uU9B@*E&6L5cy3s(+$)esyeJuaM"
    "7l6)bIsxKGfJD^q)~U<{ygbu0{|QyeCt<POWBX@CG5@J0I)9X3!RGiKHh+IR-Nb$S(qTvHm`td7m-a%%?vGb=vi=aAOc"
    "|Z5u9N8G;Z3CRwF2th5Wl|apXo4VQhx9p?uX_&{`PqU^Cq6p<HI3!EEeh>=`)GuI#~BSa3@435Qi~z%xnl<Y0xA7>izc"
    "}-|)@WOaI0|tzU1MTOc7WFpJVJ!W+zbi_`d`3u~_k>}U#hY)3MEnckucuI>sU!qoeAB8qc}pQb^M$1&iSDDOaeSC<i{L"
    "NiJxCAVZt-WAJtLHhBqh>}k`SA;GD7F}2%9Mr+D@(|8^jLZ+HJ_G>|gjLtXRgLy~ht8gNa=Sas2fEhzaS-R|iK{BCM22"
    "q~_|RU+2On7tT0gALGa$d61Q+pOb=nW**8VNuNt=a0h~E2Z3`c;D>vrVP(sTp?doPSZC4FlO@1Tmi;)AY!+C4*xfG^1g"
    "8M?OCN8WtVvE9Q8nfQQV5R35Xqz}$(Jek?{8B~^2zNSa15oVF5R8$@|;YI7?2jeTg#{9$xW0305j^<K9ml4-dt9;G|#Z"
    "eC;?P`V?(^VMBW4%`<+Ef^cbPo&1z{K0|&m2~=KpkuE%wL&h5C=`So>|}Es;*IP$G9^F!-k+}@MGxTA273020?Fr)|wE"
    "BjROo|46c51`lvW2C}I?+A-`Z7^m5RnAyDjmRADIKMsefq-LSr~8|CjmoiQTkBf?aBO0)^M8=5#wUpp4RPQT^RRI{RsZ"
    "-IW(_Ny1;Jjg?CRv}i5X=HrYGWjrru3AmamNcOrCuTxae)=hVn?yzjq=*@Lx72(av=RRH3c=nZFyqS3`Xek@By1=aI*M"
    "UZQ9Ut*pnkRt)2vWFB9^!T7k1-X)L^ty0)zE>S^I?pMEn9RawAXIv2+=#dk@o)(TmN*o8=E7l!O?c36Y*;1W2a;FfzHu"
    "xOgR!*49K!MigK{8boL;Cc`ejQ#*2X_nBNGqD>g=m@y`gJT9Zkbrd8+Ye#4|LAMSu6l$aMG4NOoXjTVi<N>c8xuB+sm;"
    "wG#BpDP4H8(q)*F&8BL@~iyxCGrSnh@P#fG*~M$TMhK^T61heSZuhn}rv-Wu#?=cw-XufgM<c#%EsV8DR6)h}eTM(H-N"
    "_9_Y+|WV3qAm~sn>Eu~SS##0oGI0L0xj+@t{y~npW%yy40$&T9MZ`k@p2q_YIo})(j*UWW{jYzGTj~8O`?3L`~bm$mv?"
    "tnzUY~m+kF+`+GDv`*dq~eCpBj9N#>shv$#Oy~E*Q096DDMLpa8+%fQ!e(iWFbR>fWBCyL|tOPxFhxBX%hn#?DmKtC?d"
    "U0%=mc97GPdGPU{s{E@G%$9_+!6BPAm$b2sr}x=F0pT>NUQ;6&>OSD*mhK4BT!q8shAdx-2K(N82Ro-kQ)l4+Eyvcqlp"
    "11FhZ;Y##QoT}4sr5j#C_8FRQH%KDc4GtN8H_cEveme2p<!yM24cZOGN>tG<{8Lu9$FuEb__RhtoF3YcuZDINc-`EFQ+"
    "XP$HmD`J4Grdl#bx!TVVfqWeZ5?U5;e+R@s{07vm>{ni8BcAQax{$IFfPgX4mvsXT9ctg6a~m!6IWcsZKH?k$VKlp>AF"
    "<+yz#rZ0(m<5|tRnq{TjfEnFVL7;k&Dgr=&vavsKBtSi7RqaZ1HC)SWUtgdN;$a)VQw`ly0K)&$P#L2}j#boJLTbOEnm"
    "2yk2T>}z{Y+4fq6BN%tUmdNg>j->6SW#xt%8YA7T)bu>p(3fG;YW}-hpEr8X6+g(AR2^FzsO{ziZ$pkxp?`MFYPmF#ST"
    "j!i#rK0;AV9$q*RS%3@jnL6p3tyD?n&mev3WfSg7MkRgnSECI#jzX=8dhk#~w<_lQFiuT4Ax_668>29MAi7#nli2Gr{V"
    "x?m)$Cb*`S$mce+{eyeQbwP_qksiOyrMCV$nD(}z^*9bp14X)lrh}1O)2}&mIbrS-?=t_9?7&O7fVI3V-#>l-sq+3EuC"
    "%v|OG@34)_%PWZd~7=4>Wxuun>ffV)CqXc!BLc>WSBEg9w>kabn?a^hPl!zxKj?RGyb>UWVKP@G*T4yrl`2bF~VyxxyM"
    "HC!JnRS3mMV3C-Y%;Gc&G?~K+e;i4ogbnm?d?{ZqyWyv#`b$$!Hw8#eT$d(=GpU*LWkWUwU1B*X&%Q`f41HoFXAQ})Lw"
    ";0xmyyX+#NzMbqW;ekgI@lIw%Pb*1_y+pq`C`gQ+Aa-we^`99qggIqYf0TMxZ-S_n+I-c1J!*kWazN$orkaZ<vd)K7!u"
    "FsVKle>)8`jS>(615iQgx12~aciwBtZH5U2MH%pB!wgecHr3uha53ADY<;*c`E3q;*=WqqLfgYT!o!M>p#dgu&Lf4LdF"
    ">Jo#s2LFlIL7jzfW`1dmxTkLrI^=u=jUXY23vaE1i@Ngk8IkVbERO0#O92n8+>-eQmyNpm#KPKx8A6pJx>-g<(A1PZ1q"
    "HN$C8&mVzb%H81CAl?V4Os=Dy)MFByCV6XAaT|P{=GWja7e4gdN5_cO*D)>f?S-{FkALJW*~&47|O?z}sr@xa_|d43A+"
    "Y{U`7c_F>7Cx%p4y;UGL0@X)VmL317qh(TaA+&Z2B6$vUzG0H9Bsi#kJtmQMu6Mw$<L%N$|9-j+3os=aP@CkCdmrh1zj"
    "PTAUi_d7xV#)Y<4XzT}+`@bGSovg1@J0uftwLDQAEH79Kx<d`J}n5TG~#*1;pIk{R;%`dL+sd`Dm^O~=~Vg52p@bOf=I"
    "FVLcFLp=+uJgjmbL98|^~vw)b~Fw2xFCx@hqP!?R%WhiTs<35cHKib}cnE=E0s)tFL3I*`|l240yqDb&ht1!Oc*7(nmS"
    "*hf?_n{~{&xxEJgxy}22**yg=<B>Fnpojf8{<^i`cjUGc4-=m{K@U<$)*_uGJ_R7fO@en9P>W*W!NR*nmUH>+qn`4x4;"
    "gtL4`a2NYWk79G9F#k7+h`*mbrF*agMH|{BQ*~ClqF5I5<RHebnkhR2;rmGl`lri06~1>?CBBFv?-a(E3%S9ly7tuVew"
    "E0L7zs?8SSBZ!eCS!FI3Mgt(QaFT~)_jmA8s{j*3B(<R;B6q;r|)$LV+WXc?fsY{Ye(;@@#&U~*tq*B%)vy=wZheHvIc"
    "ruN%QWq9%<&!18-Ky*+zETYH+lhG=X1q6H-HFjYz<XO^Z`ms#T6beWL$l5d-iR2|A<3!oNL!KV7Z6m-@obqpc`y`Ks}{"
    "G00+aTbhI+s}T5+_Ji*KIA5F||f0pMJGy5kmdV*M$6`g@`lDInbf!k`_s4>DIo=Ik<ruh+)s2%3|WScELag-;6-L((ER"
    "bVi3zC}Sv&K6(jjp1|Wls~x*%;q41zVP`^2iQ=z@a|hZ&2lL`}L`Y0S^s-~x4$_7g6{|x{_~*!)mQhl{XGkiU6;VG#qF"
    "qVx-xvecL-@yn{6uEIsbEB7M%={|t{mp5W%BJd(&stw8C(6xJ>noC!yqY$QRTJi>9^=m`;r5*kF;OKWY$`Fi<!cSWIc;"
    "+Ss%rLS!}>HLcX3AVtoavK+c}N{0kC|;4g|by9Y<J_OrR_dZ2uJ3~9?r6jyWaQtBe=`<|T72n%k`k$&#y9MCw5y9$aXb"
    "2q|x*buS*nBi>6UG*3sibD{^s(qx_GOU?TYs7Gr>Kv^>lyl1je-Y;`(%mrwXv97u8>M|K_z=aym6$3SIT`p>WFML8PO9"
    "0!#^^;amyvEP(jMjShOK2fRCll7^%&Jf_jQlSUQjJbjUy|aF*OnQB2?I<@`7~w6fv@NVj{mD7VR8kZcxu^IRxb_05A`h"
    "YT#1cG29FxZ<rwmlv>n&VrumO7byz}j7%oU25%xBlA9kxl72P@r9D{|_XAAAEVvNj!m8pDR`u+&HcSZd9lb7i4`jI@C~"
    "wu_1Y_AXFPIhh70z1vnLR9bBFQiH0lxJRq661=PBnyAK`p`19@y{wf)2r`0b0dCar2u&L^TJ#g-r|PJP?sK2C0fKj7dF"
    "0HY@h>vie()f8p2n3hyiV{9Cv;sW*z;sKD(99B8>sYM7z<o?*)U<s-fx<c*fAJ0rfvj}ZQ-A=U!P<7dy{_2ZKz*mAOAL"
    "}Wf)hczK7e!3280EZlDPDKY->c)V|UafXtM(7e=qagGl_`4rb`c(cFfQI05)!w%AVSDun3Aow3gLH+W%H;0nND{>gibt"
    "VJ#WE+`xcWSgSmx&LAuRG3om;Rmi_I*E_hg=tdgn^qrkmOcbu~NH6)=f9+r=2d2fol$Jtys%IjS+`cTl&kmbbRcgUZD)"
    "EVFSB?~qk{2}4@SNTWz8xUq{&bEw{@ngS&BUWWL3k=oYqr350R+%~dn()Pc&O8`^QVcUaCza#N}f4F^;jjoUDcPX!tEw"
    "X9;mh~8bP<cM2a9MGhUqzy9-$Te|@mUaD`kp#<jP$bn9Q_BB&&I{y*CJlRFNuwb_5)iQ!V>X^9dIj8(y_+v9uN%@(>*8"
    "wJF`2N6k?yH<}cpw+9ywK!z`);5-vl{GORG)r;>51$I9m_W93ZPxV}fm9F&=?vcB(N9)33=(B(6hGR}ay8ndbOYqw<v6"
    "?=O0{_-{-8&>kBE3jFRQl{D{7bY|1zq%S7=!}8l<K?x<!V-Ol%?LY}lO$_(Zkr#@KDIK&<b&}8lP^tRCxj6(`~RwT-9l"
    ")Rkcu}uA=1nJ<E{mnHZE-X$RoFI)mp$ov}qaK8qqON#&ag6<3ml&F2CPBkw^K8`%bvm$Q}!oJ{Us)d#g?ahE~)SLe7S@"
    "c<_vB!`*$tiW#?Rz}XhXSC>E+h+xGHc45tnVZl?o^_EMDwK}<BNzrCBQ(D--mlmKpCz8c7QG2Q6L81h?T0uW(bQ;||Mw"
    "INpXuHc9LN38}+dga(nr^JJqmueH^mI(Wppr(pfT;<a<_;L*OIU{%+v`d@>@ay;Zj+65)Hh1I@mcty*MbbK-$dht8r|!"
    "&w-pfcY8^l)8Fzl216x5DGmFf8Pq(Eyt6Iq0&QXDe{m?5gzNNS!^vw&o&MSCTVum7fi$C4vwGHva!Ttu2zHmL{;3o$E_"
    "aGD%b)xlck3p>{rz(IF4g4Kq78Ngw$)-sA2<x(E#*KjKu|sr1jJUb@;B7K#-vR1>@GzTk7@ETq5#MxZ*XA+Z;;54)CJ+"
    ")y;uSYuVZlghiQN6nR+r4S49o8Vz@loe?KzQNtlO{b0*ZRrs#2QU(N2nW6hhzD6?dV57e9s584RvCf{|Ibqk`!nnjLd%"
    "mKfAXZ}(*17;#YshPkCl>ts*8#zd>-w%ETwEuF0MW}Ne8F5_U9(Oo*S#m-Gm6Zw5FuoDAGK^H{RcOk5xbKDExkXO4ivN"
    "&RxPN1P)imReADFjR4%mn;IsK~Swuk^#o01Nc4Ju-x8wan%pw)+&374&zFx^flG9HEwN)+@wQM2B|*jye{iAaY3kqMWE"
    "p6zg#ZUP>a4&oB32$+Vdm*DbM6W&s@7>LKNx^1XTMd22mRcPAY^M=?AXk!*)AFTnV)wN`3wq<wIRWW-vTL(;q^gV!K`#"
    "nNN3L<XQkg)$Y|ZN?6WA{h*|+#Vv6<Y5Qgw=8!yX1U?_PO9k6tl}w`ZA%IXlO`;PI}-EoC2sS9+%RN%b(LXRNB2y+x{_"
    "aI@K0P6((N_lPFCn@65Si@_=2zIWb6%>JisQskQdP%Oa`$o5zBJk^MCEr$U6|z5{X$Ixj<w#Qq$6s41)ogy?2B@?j`kM"
    "oOs;&o(?IFO(h<H$V(;zM!W0h-0};C2<s>V-mEe2#d#9A7UkDjqy-IYpHo9#Bqk<uf{Gh@uWp;Y=2aBWy+7?Dl8s{k%V"
    "OBa6WxU%2^JlwJaYzTupDmkYv2;!+Nc{dPsEJ5b>0b;MlU-i*(@OcCqgGgPUz*FKCR!6wJG5Vioy#{RBtx>zPB}ITzB&"
    "J22igNB&Z{E+MwZym<l5VUq6{$6$3SJF(kl3=`%RztKiQ_%a$T8<_$>8cESy=GSqoRx;~G3X?6x6+_`sowC3%-yepiAO"
    "^|P{8Vns`gwjBa-{42<=(ahl9$a6G+OD9^qT!dBy!(B}ENO4wER(ihEn-%)^-lhlU#g;Bes6QWUe8yb$G4U0XI41kOvL"
    "#M4>!5C-zaN;VLR-bYaw_dgX^UC@iE-Q2Ru6P&d$Vdmb)!ZyEg?+ax%PvMu2JYp?I<;{3I-6X8Gphos<(3evk|M?iV4O"
    "{xlZ0ym7t{YZcFY%if&-vRGeVa=%akzI0@>th@z@XQd$JEUTLF%yvPV*lzsk7qW7N(q+r@QWdj)w-QP9JMkrF{gyLwm*"
    "HB@Ql@D5ix>sD-l%Gp<xiGRao#S~cGhoDWxo->W;ZjH%*=R&^@~ZjVn4pa$;@n~<hels4q-US?HMQNjGV&EoL%3{dqna"
    "kw};si1!sEs*=(L|{X2r$v)fF+dDOhQi_e$W{d^|I?T5z?GV!{R%n<qeJ5R5My7P5%efe%kcIWlG`{nTWtzf?JcJ=wQ+"
    "IN5EPW!*4{>3lG*SAOWRXn%9wJpB{!!cTa=*eWoEZ$(2|Ci5(=Y(f5pCu;e|L*yt1eS-{1)li-pZ~Mx?DJ#)oSo7wtmt"
    "8O%EfD)nfpU^vs2M4oBZL>3{#2J;onqU^~Z}V`?8{tq<#K-`IGN`>$wnMwrM!N{T*zv3a7;<r}J<^hEzDY@wD_O`-^(>"
    "{<)dus+FS-_f7Z<YP*o%v)fFXTFl@k{QR+&aowI~@FRc2(Zqi=8TyG67<oFGLup{N<)06oJO;-M&era+{Yh8)TgUomx%"
    "c@m`uM-<D8J&|#Ni0{)en61aQ<d!ES@OhV81VNbZP%L#P7c6xIbq2UsC@0Cwut=8|?&<7@YgTlli&Ve)3b3B6aGcO#iD"
    "VQ(b@4#Qf6H_WB=g!9LS7#H0W5<NpA2GU7l"
)

UNICODE_CLASS_NAMES: frozenset[str] = frozenset(("Any", *UNICODE_CATEGORIES, *UNICODE_SCRIPTS))
"""Every name Go 1.23 accepts in ``\\pX``, ``\\p{Name}``, ``\\p{^Name}`` and ``\\P{Name}``."""

# ---------------------------------------------------------------------------
# Unicode tables (decoded lazily from _UNICODE_BLOB).
# ---------------------------------------------------------------------------

_MAX_RUNE: Final = 0x10FFFF
_MIN_FOLD: Final = 0x0041  # smallest and largest code points with a case-folding orbit
_MAX_FOLD: Final = 0x1E943

Ranges = list[int]  # flat [lo0, hi0, lo1, hi1, ...], as Go's []rune classes


class _UnicodeData:
    """Go 1.23's unicode tables: class ranges, fold-only ranges, case-folding orbits."""

    __slots__ = ("fold_next", "fold_tables", "orbit_min", "tables")

    def __init__(self) -> None:
        import base64
        import zlib

        lines = zlib.decompress(base64.b85decode("".join(_UNICODE_BLOB))).decode().split("\n")
        leaf_names = [n for n in UNICODE_CATEGORIES if len(n) == 2] + list(UNICODE_SCRIPTS)
        self.tables: dict[str, Ranges] = {}
        for name, line in zip(leaf_names, lines, strict=False):
            nums = [int(x, 36) for x in line.split(",")] if line else []
            ranges: Ranges = []
            prev = 0
            for k in range(0, len(nums), 2):
                lo = prev + nums[k]
                prev = lo + nums[k + 1]
                ranges += (lo, prev)
            self.tables[name] = ranges
        # One-letter categories are the unions of their two-letter ones (as in Go's tables).
        for major in "CLMNPSZ":
            union: Ranges = []
            for name in UNICODE_CATEGORIES:
                if len(name) == 2 and name[0] == major:
                    union += self.tables[name]
            self.tables[major] = _clean_class(union)
        # SimpleFold orbits: SimpleFold(r) is the next larger member, wrapping around.
        self.fold_next: dict[int, int] = {}
        self.orbit_min: dict[int, int] = {}
        prev = 0
        for item in lines[len(leaf_names)].split(","):
            deltas = [int(x, 36) for x in item.split(".")]
            orbit = [prev + deltas[0]]
            for d in deltas[1:]:
                orbit.append(orbit[-1] + d)
            prev = orbit[0]
            for k, r in enumerate(orbit):
                self.fold_next[r] = orbit[(k + 1) % len(orbit)]
                self.orbit_min[r] = orbit[0]
        self.fold_tables: dict[str, Ranges | None] = {}

    def fold_table(self, name: str) -> Ranges | None:
        """Go's ``FoldCategory[name]`` / ``FoldScript[name]``, or None if Go has none.

        The runes outside the table that case-fold to runes inside it; for every
        name this equals Go's table (names without such runes have no entry).
        """
        if name not in self.fold_tables:
            ranges = self.tables[name]
            extra: set[int] = set()
            for r, f in self.fold_next.items():
                if _in_class(r, ranges):
                    while f != r:
                        if not _in_class(f, ranges):
                            extra.add(f)
                        f = self.fold_next[f]
            folded: Ranges = []
            for r in sorted(extra):
                folded = _append_range(folded, r, r)
            self.fold_tables[name] = folded or None
        return self.fold_tables[name]


@functools.lru_cache(maxsize=1)
def _unicode() -> _UnicodeData:
    return _UnicodeData()


def _simple_fold(r: int) -> int:
    """Go's ``unicode.SimpleFold`` for a valid rune."""
    return _unicode().fold_next.get(r, r)


def _min_fold_rune(r: int) -> int:
    if r < _MIN_FOLD or r > _MAX_FOLD:
        return r
    return _unicode().orbit_min.get(r, r)


def _fold_orbit(r: int) -> list[int]:
    """``r`` followed by the rest of its case-folding orbit, in SimpleFold order."""
    out = [r]
    nxt = _unicode().fold_next
    f = nxt.get(r, r)
    while f != r:
        out.append(f)
        f = nxt[f]
    return out


@functools.cache
def _unicode_class_ranges(name: str, sign: int, fold_case: bool) -> tuple[int, ...]:
    """The clean class Go builds for ``\\p{name}`` (sign -1: ``\\P{name}``).

    With ``fold_case`` (``(?i)``) the table is first merged with Go's fold table
    for it, if Go has one.  ``name`` must be in :data:`UNICODE_CLASS_NAMES`.
    """
    if name == "Any":
        tab: Sequence[int] = (0, _MAX_RUNE)
        fold: Sequence[int] | None = tab
    else:
        data = _unicode()
        tab = data.tables[name]
        fold = data.fold_table(name)
    if fold_case and fold is not None:
        tab = _clean_class([*tab, *fold])
    return tuple(_append_class([], tab) if sign > 0 else _append_negated_class([], tab))


# Go's perl_groups.go.
_CODE_DIGIT: Final = (0x30, 0x39)
_CODE_SPACE: Final = (0x9, 0xA, 0xC, 0xD, 0x20, 0x20)
_CODE_WORD: Final = (0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A)
_PERL_GROUPS: Final[dict[str, tuple[int, tuple[int, ...]]]] = {
    "\\d": (+1, _CODE_DIGIT),
    "\\D": (-1, _CODE_DIGIT),
    "\\s": (+1, _CODE_SPACE),
    "\\S": (-1, _CODE_SPACE),
    "\\w": (+1, _CODE_WORD),
    "\\W": (-1, _CODE_WORD),
}
_POSIX_CODES: Final[dict[str, tuple[int, ...]]] = {
    "alnum": (0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A),
    "alpha": (0x41, 0x5A, 0x61, 0x7A),
    "ascii": (0x0, 0x7F),
    "blank": (0x9, 0x9, 0x20, 0x20),
    "cntrl": (0x0, 0x1F, 0x7F, 0x7F),
    "digit": (0x30, 0x39),
    "graph": (0x21, 0x7E),
    "lower": (0x61, 0x7A),
    "print": (0x20, 0x7E),
    "punct": (0x21, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x7E),
    "space": (0x9, 0xD, 0x20, 0x20),
    "upper": (0x41, 0x5A),
    "word": (0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A),
    "xdigit": (0x30, 0x39, 0x41, 0x46, 0x61, 0x66),
}
_POSIX_GROUPS: Final[dict[str, tuple[int, tuple[int, ...]]]] = {
    **{f"[:{name}:]": (+1, code) for name, code in _POSIX_CODES.items()},
    **{f"[:^{name}:]": (-1, code) for name, code in _POSIX_CODES.items()},
}

# ---------------------------------------------------------------------------
# Character class helpers (Go's appendRange & co.); classes are flat range lists.
# ---------------------------------------------------------------------------


def _in_class(r: int, cls: Sequence[int]) -> bool:
    lo, hi = 0, len(cls) // 2
    while lo < hi:
        mid = (lo + hi) // 2
        if r > cls[2 * mid + 1]:
            lo = mid + 1
        elif r < cls[2 * mid]:
            hi = mid
        else:
            return True
    return False


def _clean_class(r: Sequence[int]) -> Ranges:
    """Sort ranges and merge overlapping or abutting ones (Go's ``cleanClass``)."""
    pairs = sorted(zip(r[0::2], r[1::2], strict=True))  # merging makes tie order moot
    out: Ranges = []
    for lo, hi in pairs:
        if out and lo <= out[-1] + 1:
            if hi > out[-1]:
                out[-1] = hi
            continue
        out += (lo, hi)
    return out


def _append_range(r: Ranges, lo: int, hi: int) -> Ranges:
    """Add ``lo-hi`` to ``r``, extending the last or next-to-last range if they touch."""
    n = len(r)
    for i in (2, 4):
        if n >= i:
            rlo, rhi = r[n - i], r[n - i + 1]
            if lo <= rhi + 1 and rlo <= hi + 1:
                if lo < rlo:
                    r[n - i] = lo
                if hi > rhi:
                    r[n - i + 1] = hi
                return r
    r += (lo, hi)
    return r


def _append_folded_range(r: Ranges, lo: int, hi: int) -> Ranges:
    """Add ``lo-hi`` and every rune that case-folds to one in it.

    A single rune is added exactly as Go does; for a longer range the same set is
    added in fewer steps (every caller cleans the class before it is used).
    """
    if (lo <= _MIN_FOLD and hi >= _MAX_FOLD) or hi < _MIN_FOLD or lo > _MAX_FOLD:
        return _append_range(r, lo, hi)
    if lo < _MIN_FOLD:
        r = _append_range(r, lo, _MIN_FOLD - 1)
        lo = _MIN_FOLD
    if hi > _MAX_FOLD:
        r = _append_range(r, _MAX_FOLD + 1, hi)
        hi = _MAX_FOLD
    if lo == hi:
        for f in _fold_orbit(lo):
            r = _append_range(r, f, f)
        return r
    r = _append_range(r, lo, hi)
    nxt = _unicode().fold_next
    if hi - lo < len(nxt):
        folding = [c for c in range(lo, hi + 1) if c in nxt]
    else:
        folding = sorted(c for c in nxt if lo <= c <= hi)
    for c in folding:
        f = nxt[c]
        while f != c:
            if not lo <= f <= hi:
                r = _append_range(r, f, f)
            f = nxt[f]
    return r


def _append_class(r: Ranges, x: Sequence[int]) -> Ranges:
    for i in range(0, len(x), 2):
        r = _append_range(r, x[i], x[i + 1])
    return r


def _append_folded_class(r: Ranges, x: Sequence[int]) -> Ranges:
    for i in range(0, len(x), 2):
        r = _append_folded_range(r, x[i], x[i + 1])
    return r


def _append_negated_class(r: Ranges, x: Sequence[int]) -> Ranges:
    next_lo = 0
    for i in range(0, len(x), 2):
        lo, hi = x[i], x[i + 1]
        if next_lo <= lo - 1:
            r = _append_range(r, next_lo, lo - 1)
        next_lo = hi + 1
    if next_lo <= _MAX_RUNE:
        r = _append_range(r, next_lo, _MAX_RUNE)
    return r


def _negate_class(r: Sequence[int]) -> Ranges:
    return _append_negated_class([], r)


def _append_literal(r: Ranges, x: int, flags: int) -> Ranges:
    if flags & _FOLD_CASE:
        return _append_folded_range(r, x, x)
    return _append_range(r, x, x)


# ---------------------------------------------------------------------------
# The parser: a port of Go 1.23's regexp/syntax/parse.go.
# ---------------------------------------------------------------------------

# Flags.
_FOLD_CASE: Final = 1 << 0
_LITERAL: Final = 1 << 1
_CLASS_NL: Final = 1 << 2
_DOT_NL: Final = 1 << 3
_ONE_LINE: Final = 1 << 4
_NON_GREEDY: Final = 1 << 5
_PERL_X: Final = 1 << 6
_UNICODE_GROUPS: Final = 1 << 7
_WAS_DOLLAR: Final = 1 << 8
_FLAGS_MASK: Final = 0xFFFF  # Go's Flags is a uint16
_PERL: Final = _CLASS_NL | _ONE_LINE | _PERL_X | _UNICODE_GROUPS

# Ops, in Go's order (it matters: the parser compares them).
_OP_NO_MATCH: Final = 1
_OP_EMPTY_MATCH: Final = 2
_OP_LITERAL: Final = 3
_OP_CHAR_CLASS: Final = 4
_OP_ANY_CHAR_NOT_NL: Final = 5
_OP_ANY_CHAR: Final = 6
_OP_BEGIN_LINE: Final = 7
_OP_END_LINE: Final = 8
_OP_BEGIN_TEXT: Final = 9
_OP_END_TEXT: Final = 10
_OP_WORD_BOUNDARY: Final = 11
_OP_NO_WORD_BOUNDARY: Final = 12
_OP_CAPTURE: Final = 13
_OP_STAR: Final = 14
_OP_PLUS: Final = 15
_OP_QUEST: Final = 16
_OP_REPEAT: Final = 17
_OP_CONCAT: Final = 18
_OP_ALTERNATE: Final = 19
_OP_PSEUDO: Final = 128
_OP_LEFT_PAREN: Final = 128
_OP_VERTICAL_BAR: Final = 129

_MAX_HEIGHT: Final = 1000
_MAX_SIZE: Final = (128 << 20) // (5 * 8)  # in Go's instructions of 40 bytes
_MAX_RUNES: Final = (128 << 20) // 4
_MAX_REPEAT: Final = 1000


class _Node:
    """A Go ``syntax.Regexp`` node (``link`` threads the parser's free list)."""

    __slots__ = ("cap", "flags", "link", "max", "min", "name", "op", "runes", "sub")

    op: int
    flags: int
    sub: list[_Node]
    runes: Ranges
    min: int
    max: int
    cap: int
    name: str
    link: _Node | None

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero the node, as Go's ``newRegexp`` does when recycling one."""
        self.op = 0
        self.flags = 0
        self.sub = []
        self.runes = []
        self.min = 0
        self.max = 0
        self.cap = 0
        self.name = ""
        self.link = None


class _LimitExceeded(Exception):
    """Go's panic(ErrLarge) / panic(ErrNestingDepth); reported with the whole pattern."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _is_char_class(re: _Node) -> bool:
    return (
        (re.op == _OP_LITERAL and len(re.runes) == 1)
        or re.op == _OP_CHAR_CLASS
        or re.op == _OP_ANY_CHAR_NOT_NL
        or re.op == _OP_ANY_CHAR
    )


def _match_rune(re: _Node, r: int) -> bool:
    if re.op == _OP_LITERAL:
        return len(re.runes) == 1 and re.runes[0] == r
    if re.op == _OP_CHAR_CLASS:
        return any(re.runes[i] <= r <= re.runes[i + 1] for i in range(0, len(re.runes), 2))
    if re.op == _OP_ANY_CHAR_NOT_NL:
        return r != 0x0A
    return re.op == _OP_ANY_CHAR


def _merge_char_class(dst: _Node, src: _Node) -> None:
    """dst = dst|src, for char-class-like nodes with ``dst.op >= src.op``."""
    if dst.op == _OP_ANY_CHAR:
        pass
    elif dst.op == _OP_ANY_CHAR_NOT_NL:
        if _match_rune(src, 0x0A):
            dst.op = _OP_ANY_CHAR
    elif dst.op == _OP_CHAR_CLASS:
        if src.op == _OP_LITERAL:
            dst.runes = _append_literal(dst.runes, src.runes[0], src.flags)
        else:
            dst.runes = _append_class(dst.runes, src.runes)
    elif dst.op == _OP_LITERAL:
        if src.runes[0] == dst.runes[0] and src.flags == dst.flags:
            return
        dst.op = _OP_CHAR_CLASS
        first = dst.runes[0]
        dst.runes = _append_literal([], first, dst.flags)
        dst.runes = _append_literal(dst.runes, src.runes[0], src.flags)


def _clean_alt(re: _Node) -> None:
    if re.op == _OP_CHAR_CLASS:
        re.runes = _clean_class(re.runes)
        if re.runes == [0, _MAX_RUNE]:
            re.runes = []
            re.op = _OP_ANY_CHAR
        elif re.runes == [0, 0x09, 0x0B, _MAX_RUNE]:
            re.runes = []
            re.op = _OP_ANY_CHAR_NOT_NL


def _equal(x: _Node | None, y: _Node | None) -> bool:
    """Go's ``(*Regexp).Equal`` (iterative: trees can be 1000 levels deep)."""
    todo = [(x, y)]
    while todo:
        a, b = todo.pop()
        if a is None or b is None:
            if a is not b:
                return False
            continue
        if a.op != b.op:
            return False
        op = a.op
        if op == _OP_END_TEXT:
            if (a.flags ^ b.flags) & _WAS_DOLLAR:
                return False
        elif op in (_OP_LITERAL, _OP_CHAR_CLASS):
            if a.runes != b.runes:
                return False
        elif op in (_OP_ALTERNATE, _OP_CONCAT):
            if len(a.sub) != len(b.sub):
                return False
            todo.extend(zip(a.sub, b.sub, strict=True))
        elif op in (_OP_STAR, _OP_PLUS, _OP_QUEST, _OP_REPEAT, _OP_CAPTURE):
            if op == _OP_CAPTURE:
                if a.cap != b.cap or a.name != b.name:
                    return False
            elif (a.flags ^ b.flags) & _NON_GREEDY or (
                op == _OP_REPEAT and (a.min != b.min or a.max != b.max)
            ):
                return False
            todo.append((a.sub[0], b.sub[0]))
    return True


def _repeat_is_valid(root: _Node, limit: int) -> bool:
    """No path through ``root`` repeats its innermost node more than ``limit`` times."""
    todo = [(root, limit)]
    while todo:
        re, n = todo.pop()
        if re.op == _OP_REPEAT:
            m = re.max
            if m == 0:
                continue
            if m < 0:
                m = re.min
            if m > n:
                return False
            if m > 0:
                n //= m
        todo.extend((sub, n) for sub in re.sub)
    return True


def _is_alnum(c: str) -> bool:
    return "0" <= c <= "9" or "A" <= c <= "Z" or "a" <= c <= "z"


def _unhex(c: int) -> int:
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    if 0x41 <= c <= 0x46:
        return c - 0x41 + 10
    return -1


def _is_surrogate(c: str) -> bool:
    return "\ud800" <= c <= "\udfff"


def _check_utf8(s: str) -> None:
    for k, c in enumerate(s):
        if _is_surrogate(c):
            raise GoRegexpError(ERR_INVALID_UTF8, s[k:])


class _Parser:
    """Go's ``parser`` state.  Positions are indexes into the pattern ``s``."""

    def __init__(self, s: str, flags: int) -> None:
        self.s = s
        self.n = len(s)
        self.flags = flags
        self.stack: list[_Node] = []
        self.free: _Node | None = None
        self.num_cap = 0
        self.num_regexp = 0
        self.num_runes = 0
        self.repeats = 0
        self.height: dict[_Node, int] | None = None
        self.size: dict[_Node, int] | None = None

    # -- allocation, as Go does it: counting only fresh nodes, recycling freed ones --

    def new_regexp(self, op: int) -> _Node:
        re = self.free
        if re is not None:
            self.free = re.link
            re.reset()
        else:
            re = _Node()
            self.num_regexp += 1
        re.op = op
        return re

    def reuse(self, re: _Node) -> None:
        if self.height is not None:
            self.height.pop(re, None)
        re.link = self.free
        self.free = re

    # -- limits --

    def check_limits(self, re: _Node) -> None:
        if self.num_runes > _MAX_RUNES:
            raise _LimitExceeded(ERR_LARGE)
        self.check_size(re)
        self.check_height(re)

    def check_size(self, re: _Node) -> None:
        if self.size is None:
            # Go only starts measuring once nodes times repeat product could be too big.
            if self.repeats == 0:
                self.repeats = 1
            if re.op == _OP_REPEAT:
                n = re.max
                if n == -1:
                    n = re.min
                if n <= 0:
                    n = 1
                if n > _MAX_SIZE // self.repeats:
                    self.repeats = _MAX_SIZE
                else:
                    self.repeats *= n
            if self.num_regexp < _MAX_SIZE // self.repeats:
                return
            self.size = {}
            for node in self.stack:
                self.check_size(node)
        if self.calc_size(re, force=True) > _MAX_SIZE:
            raise _LimitExceeded(ERR_LARGE)

    def calc_size(self, root: _Node, *, force: bool) -> int:
        """Go's ``calcSize``; cached sizes (even of recycled nodes) are reused like Go's."""
        size = self.size
        assert size is not None
        if not force and root in size:
            return size[root]
        todo: list[tuple[_Node, bool]] = [(root, False)]
        while todo:
            re, ready = todo.pop()
            op = re.op
            if not ready:
                if re is not root and re in size:
                    continue
                todo.append((re, True))
                if op in (_OP_CONCAT, _OP_ALTERNATE):
                    kids = re.sub
                elif op in (_OP_CAPTURE, _OP_STAR, _OP_PLUS, _OP_QUEST, _OP_REPEAT):
                    kids = re.sub[:1]
                else:
                    kids = []
                todo.extend((k, False) for k in reversed(kids) if k not in size)
                continue
            value = 0
            if op == _OP_LITERAL:
                value = len(re.runes)
            elif op in (_OP_CAPTURE, _OP_STAR):
                value = 2 + size[re.sub[0]]
            elif op in (_OP_PLUS, _OP_QUEST):
                value = 1 + size[re.sub[0]]
            elif op == _OP_CONCAT:
                value = sum(size[k] for k in re.sub)
            elif op == _OP_ALTERNATE:
                value = sum(size[k] for k in re.sub)
                if len(re.sub) > 1:
                    value += len(re.sub) - 1
            elif op == _OP_REPEAT:
                sub = size[re.sub[0]]
                if re.max == -1:
                    value = 2 + sub if re.min == 0 else 1 + re.min * sub
                else:
                    value = re.max * sub + (re.max - re.min)
            size[re] = max(1, value)
        return size[root]

    def check_height(self, re: _Node) -> None:
        if self.num_regexp < _MAX_HEIGHT:
            return
        if self.height is None:
            self.height = {}
            for node in self.stack:
                self.check_height(node)
        if self.calc_height(re, force=True) > _MAX_HEIGHT:
            raise _LimitExceeded(ERR_NESTING_DEPTH)

    def calc_height(self, root: _Node, *, force: bool) -> int:
        height = self.height
        assert height is not None
        if not force and root in height:
            return height[root]
        todo: list[tuple[_Node, bool]] = [(root, False)]
        while todo:
            re, ready = todo.pop()
            if not ready:
                if re is not root and re in height:
                    continue
                todo.append((re, True))
                todo.extend((k, False) for k in reversed(re.sub) if k not in height)
                continue
            h = 1
            for k in re.sub:
                h = max(h, 1 + height[k])
            height[re] = h
        return height[root]

    # -- stack manipulation --

    def push(self, re: _Node) -> _Node | None:
        self.num_runes += len(re.runes)
        r = re.runes
        if re.op == _OP_CHAR_CLASS and len(r) == 2 and r[0] == r[1]:
            # Single rune.
            if self.maybe_concat(r[0], self.flags & ~_FOLD_CASE):
                return None
            re.op = _OP_LITERAL
            re.runes = r[:1]
            re.flags = self.flags & ~_FOLD_CASE
        elif re.op == _OP_CHAR_CLASS and (
            (
                len(r) == 4
                and r[0] == r[1]
                and r[2] == r[3]
                and _simple_fold(r[0]) == r[2]
                and _simple_fold(r[2]) == r[0]
            )
            or (
                len(r) == 2
                and r[0] + 1 == r[1]
                and _simple_fold(r[0]) == r[1]
                and _simple_fold(r[1]) == r[0]
            )
        ):
            # Case-insensitive rune like [Aa] or [Δδ].
            if self.maybe_concat(r[0], self.flags | _FOLD_CASE):
                return None
            re.op = _OP_LITERAL
            re.runes = r[:1]
            re.flags = self.flags | _FOLD_CASE
        else:
            self.maybe_concat(-1, 0)
        self.stack.append(re)
        self.check_limits(re)
        return re

    def maybe_concat(self, r: int, flags: int) -> bool:
        """Merge the top two literals; reuse the freed node for ``r`` if ``r >= 0``."""
        stack = self.stack
        if len(stack) < 2:
            return False
        re1, re2 = stack[-1], stack[-2]
        if re1.op != _OP_LITERAL or re2.op != _OP_LITERAL or (re1.flags ^ re2.flags) & _FOLD_CASE:
            return False
        re2.runes = re2.runes + re1.runes
        if r >= 0:
            re1.runes = [r]
            re1.flags = flags
            return True
        stack.pop()
        self.reuse(re1)
        return False

    def literal(self, r: int) -> None:
        re = self.new_regexp(_OP_LITERAL)
        re.flags = self.flags
        if self.flags & _FOLD_CASE:
            r = _min_fold_rune(r)
        re.runes = [r]
        self.push(re)

    def op(self, op: int) -> _Node:
        re = self.new_regexp(op)
        re.flags = self.flags
        pushed = self.push(re)
        assert pushed is not None
        return pushed

    def repeat(
        self, op: int, lo: int, hi: int, before: int, after: int, last_repeat: int | None
    ) -> int:
        """Apply a repetition operator spanning ``before:after``; return the new position."""
        s = self.s
        flags = self.flags
        if self.flags & _PERL_X:
            if after < self.n and s[after] == "?":
                after += 1
                flags ^= _NON_GREEDY
            if last_repeat is not None:
                # Perl does not allow stacked repetition operators (a** is an error).
                raise GoRegexpError(ERR_INVALID_REPEAT_OP, s[last_repeat:after])
        if not self.stack or self.stack[-1].op >= _OP_PSEUDO:
            raise GoRegexpError(ERR_MISSING_REPEAT_ARGUMENT, s[before:after])
        sub = self.stack[-1]
        re = self.new_regexp(op)
        re.min = lo
        re.max = hi
        re.flags = flags
        re.sub = [sub]
        self.stack[-1] = re
        self.check_limits(re)
        if op == _OP_REPEAT and (lo >= 2 or hi >= 2) and not _repeat_is_valid(re, _MAX_REPEAT):
            raise GoRegexpError(ERR_INVALID_REPEAT_SIZE, s[before:after])
        return after

    def concat(self) -> _Node | None:
        self.maybe_concat(-1, 0)
        stack = self.stack
        i = len(stack)
        while i > 0 and stack[i - 1].op < _OP_PSEUDO:
            i -= 1
        subs = stack[i:]
        del stack[i:]
        if not subs:
            return self.push(self.new_regexp(_OP_EMPTY_MATCH))
        return self.push(self.collapse(subs, _OP_CONCAT))

    def alternate(self) -> _Node | None:
        stack = self.stack
        i = len(stack)
        while i > 0 and stack[i - 1].op < _OP_PSEUDO:
            i -= 1
        subs = stack[i:]
        del stack[i:]
        if subs:
            _clean_alt(subs[-1])
        if not subs:
            return self.push(self.new_regexp(_OP_NO_MATCH))
        return self.push(self.collapse(subs, _OP_ALTERNATE))

    def collapse(self, subs: list[_Node], op: int) -> _Node:
        if len(subs) == 1:
            return subs[0]
        re = self.new_regexp(op)
        for sub in subs:
            if sub.op == op:
                re.sub.extend(sub.sub)
                self.reuse(sub)
            else:
                re.sub.append(sub)
        if op == _OP_ALTERNATE:
            re.sub = self.factor(re.sub)
            if len(re.sub) == 1:
                old = re
                re = re.sub[0]
                self.reuse(old)
        return re

    def factor(self, sub: list[_Node]) -> list[_Node]:
        """Factor common prefixes out of an alternation, as Go does (four rounds)."""
        if len(sub) < 2:
            return sub

        # Round 1: common literal prefixes.
        prefix_runes: list[int] = []
        prefix_flags = 0
        start = 0
        out: list[_Node] = []
        for i in range(len(sub) + 1):
            istr: list[int] = []
            iflags = 0
            if i < len(sub):
                istr, iflags = self.leading_string(sub[i])
                if iflags == prefix_flags:
                    same = 0
                    while (
                        same < len(prefix_runes)
                        and same < len(istr)
                        and prefix_runes[same] == istr[same]
                    ):
                        same += 1
                    if same > 0:
                        prefix_runes = prefix_runes[:same]
                        continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                prefix = self.new_regexp(_OP_LITERAL)
                prefix.flags = prefix_flags
                prefix.runes = list(prefix_runes)
                for j in range(start, i):
                    sub[j] = self.remove_leading_string(sub[j], len(prefix_runes))
                    self.check_limits(sub[j])
                suffix = self.collapse(sub[start:i], _OP_ALTERNATE)
                re = self.new_regexp(_OP_CONCAT)
                re.sub = [prefix, suffix]
                out.append(re)
            start = i
            prefix_runes = istr
            prefix_flags = iflags
        sub = out

        # Round 2: common leading single-character pieces (or fixed repeats of them).
        start = 0
        out = []
        first: _Node | None = None
        for i in range(len(sub) + 1):
            ifirst: _Node | None = None
            if i < len(sub):
                ifirst = self.leading_regexp(sub[i])
                if (
                    first is not None
                    and _equal(first, ifirst)
                    and (
                        _is_char_class(first)
                        or (
                            first.op == _OP_REPEAT
                            and first.min == first.max
                            and _is_char_class(first.sub[0])
                        )
                    )
                ):
                    continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                assert first is not None
                prefix = first
                for j in range(start, i):
                    sub[j] = self.remove_leading_regexp(sub[j], reuse=j != start)
                    self.check_limits(sub[j])
                suffix = self.collapse(sub[start:i], _OP_ALTERNATE)
                re = self.new_regexp(_OP_CONCAT)
                re.sub = [prefix, suffix]
                out.append(re)
            start = i
            first = ifirst
        sub = out

        # Round 3: runs of single characters and classes become one class.
        start = 0
        out = []
        for i in range(len(sub) + 1):
            if i < len(sub) and _is_char_class(sub[i]):
                continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                most = start
                for j in range(start + 1, i):
                    if sub[most].op < sub[j].op or (
                        sub[most].op == sub[j].op and len(sub[most].runes) < len(sub[j].runes)
                    ):
                        most = j
                sub[start], sub[most] = sub[most], sub[start]
                for j in range(start + 1, i):
                    _merge_char_class(sub[start], sub[j])
                    self.reuse(sub[j])
                _clean_alt(sub[start])
                out.append(sub[start])
            if i < len(sub):
                out.append(sub[i])
            start = i + 1
        sub = out

        # Round 4: collapse runs of empty matches.
        out = []
        for i in range(len(sub)):
            if (
                i + 1 < len(sub)
                and sub[i].op == _OP_EMPTY_MATCH
                and sub[i + 1].op == _OP_EMPTY_MATCH
            ):
                continue
            out.append(sub[i])
        return out

    @staticmethod
    def leading_string(re: _Node) -> tuple[list[int], int]:
        if re.op == _OP_CONCAT and re.sub:
            re = re.sub[0]
        if re.op != _OP_LITERAL:
            return [], 0
        return re.runes, re.flags & _FOLD_CASE

    def remove_leading_string(self, re: _Node, n: int) -> _Node:
        if re.op == _OP_CONCAT and re.sub:
            sub = self.remove_leading_string(re.sub[0], n)
            re.sub[0] = sub
            if sub.op == _OP_EMPTY_MATCH:
                self.reuse(sub)
                if len(re.sub) <= 1:
                    re.op = _OP_EMPTY_MATCH
                    re.sub = []
                elif len(re.sub) == 2:
                    old = re
                    re = re.sub[1]
                    self.reuse(old)
                else:
                    del re.sub[0]
            return re
        if re.op == _OP_LITERAL:
            re.runes = re.runes[n:]
            if not re.runes:
                re.op = _OP_EMPTY_MATCH
        return re

    @staticmethod
    def leading_regexp(re: _Node) -> _Node | None:
        if re.op == _OP_EMPTY_MATCH:
            return None
        if re.op == _OP_CONCAT and re.sub:
            sub = re.sub[0]
            if sub.op == _OP_EMPTY_MATCH:
                return None
            return sub
        return re

    def remove_leading_regexp(self, re: _Node, *, reuse: bool) -> _Node:
        if re.op == _OP_CONCAT and re.sub:
            if reuse:
                self.reuse(re.sub[0])
            del re.sub[0]
            if not re.sub:
                re.op = _OP_EMPTY_MATCH
            elif len(re.sub) == 1:
                old = re
                re = re.sub[0]
                self.reuse(old)
            return re
        if reuse:
            self.reuse(re)
        return self.new_regexp(_OP_EMPTY_MATCH)

    def parse_vertical_bar(self) -> None:
        self.concat()
        if not self.swap_vertical_bar():
            self.op(_OP_VERTICAL_BAR)

    def swap_vertical_bar(self) -> bool:
        stack = self.stack
        n = len(stack)
        if (
            n >= 3
            and stack[n - 2].op == _OP_VERTICAL_BAR
            and _is_char_class(stack[n - 1])
            and _is_char_class(stack[n - 3])
        ):
            re1, re3 = stack[n - 1], stack[n - 3]
            if re1.op > re3.op:
                re1, re3 = re3, re1
                stack[n - 3] = re3
            _merge_char_class(re3, re1)
            self.reuse(re1)
            stack.pop()
            return True
        if n >= 2:
            re1, re2 = stack[n - 1], stack[n - 2]
            if re2.op == _OP_VERTICAL_BAR:
                if n >= 3:
                    _clean_alt(stack[n - 3])
                stack[n - 2] = re1
                stack[n - 1] = re2
                return True
        return False

    def parse_right_paren(self) -> None:
        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()
        self.alternate()
        stack = self.stack
        if len(stack) < 2:
            raise GoRegexpError(ERR_UNEXPECTED_PAREN, self.s)
        re1, re2 = stack[-1], stack[-2]
        del stack[-2:]
        if re2.op != _OP_LEFT_PAREN:
            raise GoRegexpError(ERR_UNEXPECTED_PAREN, self.s)
        self.flags = re2.flags
        if re2.cap == 0:
            self.push(re1)
        else:
            re2.op = _OP_CAPTURE
            re2.sub = [re1]
            self.push(re2)

    # -- lexical pieces --

    def next_rune(self, i: int) -> tuple[int, int]:
        """The rune at ``i`` and the position after it (U+FFFD and ``i`` at the end)."""
        if i >= self.n:
            return 0xFFFD, i
        c = self.s[i]
        if _is_surrogate(c):
            raise GoRegexpError(ERR_INVALID_UTF8, self.s[i:])
        return ord(c), i + 1

    def parse_int(self, i: int) -> tuple[int, int] | None:
        """A decimal without leading zeros at ``i``: (value or -1 if huge, end) or None."""
        s, n = self.s, self.n
        if i >= n or not "0" <= s[i] <= "9":
            return None
        if i + 1 < n and s[i] == "0" and "0" <= s[i + 1] <= "9":
            return None
        j = i
        while j < n and "0" <= s[j] <= "9":
            j += 1
        value = 0
        for k in range(i, j):
            if value >= 100_000_000:
                value = -1
                break
            value = value * 10 + ord(s[k]) - 0x30
        return value, j

    def parse_repeat(self, i: int) -> tuple[int, int, int] | None:
        """``{min}``, ``{min,}`` or ``{min,max}`` at ``i``: (min, max, end) or None.

        A number too big gives min == -1.
        """
        s, n = self.s, self.n
        got = self.parse_int(i + 1)
        if got is None:
            return None
        lo, j = got
        if j >= n:
            return None
        if s[j] != ",":
            hi = lo
        else:
            j += 1
            if j >= n:
                return None
            if s[j] == "}":
                hi = -1
            else:
                got = self.parse_int(j)
                if got is None:
                    return None
                hi, j = got
                if hi < 0:
                    lo = -1
        if j >= n or s[j] != "}":
            return None
        return lo, hi, j + 1

    def parse_perl_flags(self, i: int) -> int:
        """A ``(?`` group at ``i``: named capture, flags, or non-capturing group."""
        s, n = self.s, self.n
        starts_with_p = n - i > 4 and s[i + 2] == "P" and s[i + 3] == "<"
        starts_with_name = n - i > 3 and s[i + 2] == "<"
        if starts_with_p or starts_with_name:
            name_start = i + (4 if starts_with_p else 3)
            end = s.find(">", i)
            if end < 0:
                _check_utf8(s[i:])
                raise GoRegexpError(ERR_INVALID_NAMED_CAPTURE, s[i:])
            capture = s[i : end + 1]
            name = s[name_start:end]
            _check_utf8(name)
            if not name or not all(c == "_" or _is_alnum(c) for c in name):
                raise GoRegexpError(ERR_INVALID_NAMED_CAPTURE, capture)
            self.num_cap += 1
            re = self.op(_OP_LEFT_PAREN)
            re.cap = self.num_cap
            re.name = name
            return end + 1

        j = i + 2
        flags = self.flags
        sign = +1
        saw_flag = False
        while j < n:
            c, j = self.next_rune(j)
            ch = chr(c)
            if ch == "i":
                flags |= _FOLD_CASE
                saw_flag = True
            elif ch == "m":
                flags &= ~_ONE_LINE
                saw_flag = True
            elif ch == "s":
                flags |= _DOT_NL
                saw_flag = True
            elif ch == "U":
                flags |= _NON_GREEDY
                saw_flag = True
            elif ch == "-":
                if sign < 0:
                    break
                sign = -1
                # Invert so that the settings above clear flags; undone below.
                flags = ~flags & _FLAGS_MASK
                saw_flag = False
            elif ch in ":)":
                if sign < 0:
                    if not saw_flag:
                        break
                    flags = ~flags & _FLAGS_MASK
                if ch == ":":
                    self.op(_OP_LEFT_PAREN)  # the group restores the current flags
                self.flags = flags
                return j
            else:
                break
        raise GoRegexpError(ERR_INVALID_PERL_OP, s[i:j])

    def parse_escape(self, i: int) -> tuple[int, int]:
        """The escape sequence at ``i`` (a backslash): (rune, end)."""
        s, n = self.s, self.n
        if i + 1 >= n:
            raise GoRegexpError(ERR_TRAILING_BACKSLASH, "")
        c, j = self.next_rune(i + 1)
        ch = chr(c)
        if c < 0x80 and not _is_alnum(ch):
            # Escaped punctuation is always itself.
            return c, j
        if ch in "1234567" and (j >= n or not "0" <= s[j] <= "7"):
            pass  # a backreference: not supported
        elif ch in "01234567":
            # Octal: up to three digits.
            r = c - 0x30
            for _ in range(2):
                if j >= n or not "0" <= s[j] <= "7":
                    break
                r = r * 8 + ord(s[j]) - 0x30
                j += 1
            return r, j
        elif ch == "x":
            if j < n:
                c, j = self.next_rune(j)
                if c == 0x7B:  # {
                    # Any number of hex digits in braces, at least one.
                    nhex = 0
                    r = 0
                    while True:
                        if j >= n:
                            break
                        c, j = self.next_rune(j)
                        if c == 0x7D:  # }
                            if nhex == 0:
                                break
                            return r, j
                        v = _unhex(c)
                        if v < 0:
                            break
                        r = r * 16 + v
                        if r > _MAX_RUNE:
                            break
                        nhex += 1
                else:
                    # Exactly two hex digits.
                    x = _unhex(c)
                    c, j = self.next_rune(j)
                    y = _unhex(c)
                    if x >= 0 and y >= 0:
                        return x * 16 + y, j
        elif ch in _C_ESCAPES:
            return _C_ESCAPES[ch], j
        raise GoRegexpError(ERR_INVALID_ESCAPE, s[i:j])

    def parse_class_char(self, i: int, class_start: int) -> tuple[int, int]:
        if i >= self.n:
            raise GoRegexpError(ERR_MISSING_BRACKET, self.s[class_start:])
        if self.s[i] == "\\":
            return self.parse_escape(i)
        return self.next_rune(i)

    def append_group(self, r: Ranges, group: tuple[int, Sequence[int]]) -> Ranges:
        sign, cls = group
        if not self.flags & _FOLD_CASE:
            return _append_negated_class(r, cls) if sign < 0 else _append_class(r, cls)
        tmp = _clean_class(_append_folded_class([], cls))
        return _append_negated_class(r, tmp) if sign < 0 else _append_class(r, tmp)

    def parse_perl_class_escape(self, i: int, r: Ranges) -> tuple[Ranges, int] | None:
        if not self.flags & _PERL_X or self.n - i < 2 or self.s[i] != "\\":
            return None
        group = _PERL_GROUPS.get(self.s[i : i + 2])
        if group is None:
            return None
        return self.append_group(r, group), i + 2

    def parse_named_class(self, i: int, r: Ranges) -> tuple[Ranges, int] | None:
        s = self.s
        if self.n - i < 2 or s[i] != "[" or s[i + 1] != ":":
            return None
        end = s.find(":]", i + 2)
        if end < 0:
            return None
        name = s[i : end + 2]
        group = _POSIX_GROUPS.get(name)
        if group is None:
            raise GoRegexpError(ERR_INVALID_CHAR_RANGE, name)
        return self.append_group(r, group), end + 2

    def parse_unicode_class(self, i: int, r: Ranges) -> tuple[Ranges, int] | None:
        s = self.s
        if (
            not self.flags & _UNICODE_GROUPS
            or self.n - i < 2
            or s[i] != "\\"
            or s[i + 1] not in "pP"
        ):
            return None
        # Committed to parse or fail.
        sign = -1 if s[i + 1] == "P" else +1
        c, j = self.next_rune(i + 2)
        if c != 0x7B:  # a one-letter name
            seq = s[i:j]
            name = seq[2:]
        else:
            end = s.find("}", i)
            if end < 0:
                _check_utf8(s[i:])
                raise GoRegexpError(ERR_INVALID_CHAR_RANGE, s[i:])
            seq = s[i : end + 1]
            j = end + 1
            name = s[i + 3 : end]
            _check_utf8(name)
        if name.startswith("^"):
            sign = -sign
            name = name[1:]
        if name not in UNICODE_CLASS_NAMES:
            raise GoRegexpError(ERR_INVALID_CHAR_RANGE, seq)
        # Go appends the table range by range; appended to an empty class that gives
        # the clean table, and a non-empty one (inside brackets) is cleaned before use.
        r += _unicode_class_ranges(name, sign, bool(self.flags & _FOLD_CASE))
        return r, j

    def parse_class(self, i: int) -> int:
        """The bracketed class starting at ``i``; pushes it, returns the end position."""
        s, n = self.s, self.n
        j = i + 1
        re = self.new_regexp(_OP_CHAR_CLASS)
        re.flags = self.flags
        cls: Ranges = []
        sign = +1
        if j < n and s[j] == "^":
            sign = -1
            j += 1
            # A class that may not match \n gets it here, so negation removes it.
            if not self.flags & _CLASS_NL:
                cls += (0x0A, 0x0A)
        first = True  # ] and - are literal as the first character
        while j >= n or s[j] != "]" or first:
            # POSIX: - is only literal first or last; Perl: anywhere.
            if (
                j < n
                and s[j] == "-"
                and not self.flags & _PERL_X
                and not first
                and (j + 1 == n or s[j + 1] != "]")
            ):
                raise GoRegexpError(ERR_INVALID_CHAR_RANGE, s[j : j + 2])
            first = False
            if n - j > 2 and s[j] == "[" and s[j + 1] == ":":
                got = self.parse_named_class(j, cls)
                if got is not None:
                    cls, j = got
                    continue
            got = self.parse_unicode_class(j, cls)
            if got is not None:
                cls, j = got
                continue
            got = self.parse_perl_class_escape(j, cls)
            if got is not None:
                cls, j = got
                continue
            # A single character or a range.
            range_start = j
            lo, j = self.parse_class_char(j, i)
            hi = lo
            if n - j >= 2 and s[j] == "-" and s[j + 1] != "]":
                hi, j = self.parse_class_char(j + 1, i)
                if hi < lo:
                    raise GoRegexpError(ERR_INVALID_CHAR_RANGE, s[range_start:j])
            if self.flags & _FOLD_CASE:
                cls = _append_folded_range(cls, lo, hi)
            else:
                cls = _append_range(cls, lo, hi)
        cls = _clean_class(cls)
        re.runes = _negate_class(cls) if sign < 0 else cls
        self.push(re)
        return j + 1

    # -- the main loop --

    def parse(self) -> _Node:
        s, n = self.s, self.n
        i = 0
        last_repeat: int | None = None
        while i < n:
            repeat: int | None = None
            c = s[i]
            if c == "(":
                if self.flags & _PERL_X and i + 1 < n and s[i + 1] == "?":
                    i = self.parse_perl_flags(i)
                else:
                    self.num_cap += 1
                    self.op(_OP_LEFT_PAREN).cap = self.num_cap
                    i += 1
            elif c == "|":
                self.parse_vertical_bar()
                i += 1
            elif c == ")":
                self.parse_right_paren()
                i += 1
            elif c == "^":
                self.op(_OP_BEGIN_TEXT if self.flags & _ONE_LINE else _OP_BEGIN_LINE)
                i += 1
            elif c == "$":
                if self.flags & _ONE_LINE:
                    self.op(_OP_END_TEXT).flags |= _WAS_DOLLAR
                else:
                    self.op(_OP_END_LINE)
                i += 1
            elif c == ".":
                self.op(_OP_ANY_CHAR if self.flags & _DOT_NL else _OP_ANY_CHAR_NOT_NL)
                i += 1
            elif c == "[":
                i = self.parse_class(i)
            elif c in "*+?":
                op = _OP_STAR if c == "*" else _OP_PLUS if c == "+" else _OP_QUEST
                after = self.repeat(op, 0, 0, i, i + 1, last_repeat)
                repeat = i
                i = after
            elif c == "{":
                got = self.parse_repeat(i)
                if got is None:
                    # Not a repetition: a literal {.
                    self.literal(0x7B)
                    i += 1
                else:
                    lo, hi, after = got
                    if lo < 0 or lo > _MAX_REPEAT or hi > _MAX_REPEAT or 0 <= hi < lo:
                        raise GoRegexpError(ERR_INVALID_REPEAT_SIZE, s[i:after])
                    after = self.repeat(_OP_REPEAT, lo, hi, i, after, last_repeat)
                    repeat = i
                    i = after
            elif c == "\\":
                i = self.parse_backslash(i)
            else:
                r, i = self.next_rune(i)
                self.literal(r)
            last_repeat = repeat

        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()  # the vertical bar
        self.alternate()
        if len(self.stack) != 1:
            raise GoRegexpError(ERR_MISSING_PAREN, s)
        return self.stack[0]

    def parse_backslash(self, i: int) -> int:
        s, n = self.s, self.n
        if self.flags & _PERL_X and i + 1 < n:
            c = s[i + 1]
            if c in _PERL_ASSERTIONS:
                self.op(_PERL_ASSERTIONS[c])
                return i + 2
            if c == "C":
                # Any byte: not supported.
                raise GoRegexpError(ERR_INVALID_ESCAPE, s[i : i + 2])
            if c == "Q":
                # \Q ... \E: everything in between is literal.
                end = s.find("\\E", i + 2)
                lit = s[i + 2 :] if end < 0 else s[i + 2 : end]
                for k, ch in enumerate(lit):
                    if _is_surrogate(ch):
                        raise GoRegexpError(ERR_INVALID_UTF8, lit[k:])
                    self.literal(ord(ch))
                return n if end < 0 else end + 2

        re = self.new_regexp(_OP_CHAR_CLASS)
        re.flags = self.flags
        # A Unicode class like \p{Han}.
        if i + 1 < n and s[i + 1] in "pP":
            got = self.parse_unicode_class(i, [])
            if got is not None:
                re.runes, end = got
                self.push(re)
                return end
        # A Perl class like \d.
        got = self.parse_perl_class_escape(i, [])
        if got is not None:
            re.runes, end = got
            self.push(re)
            return end
        self.reuse(re)
        # An ordinary single-character escape.
        r, end = self.parse_escape(i)
        self.literal(r)
        return end


_PERL_ASSERTIONS: Final = {
    "A": _OP_BEGIN_TEXT,
    "b": _OP_WORD_BOUNDARY,
    "B": _OP_NO_WORD_BOUNDARY,
    "z": _OP_END_TEXT,
}
_C_ESCAPES: Final = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}


def _go_string(text: str) -> str:
    """``text`` as the Go string it stands for.

    Lone surrogates from ``surrogateescape`` are the bytes they escape; two or
    more of them can spell a valid UTF-8 character, which is what Go sees.
    """
    if not any(_is_surrogate(c) for c in text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that escape no byte: left as they are
        return text


def _parse(pattern: str) -> _Node:
    """Go's ``syntax.Parse(pattern, syntax.Perl)``; raises :class:`GoRegexpError`."""
    pattern = _go_string(pattern)
    try:
        return _Parser(pattern, _PERL).parse()
    except _LimitExceeded as exc:
        raise GoRegexpError(exc.code, pattern) from None


# ---------------------------------------------------------------------------
# Go parse tree -> RE2 pattern.
# ---------------------------------------------------------------------------

_NO_MATCH_RE2: Final = "[^\\x00-\\x{10ffff}]"
_ATOMIC_OPS: Final = frozenset((_OP_CHAR_CLASS, _OP_ANY_CHAR_NOT_NL, _OP_ANY_CHAR))


def _re2_rune(r: int) -> str:
    if r < 0x80 and _is_alnum(chr(r)):
        return chr(r)
    return f"\\x{{{r:x}}}"


def _re2_class(ranges: Sequence[int]) -> str:
    if not ranges:
        return _NO_MATCH_RE2
    parts = []
    for k in range(0, len(ranges), 2):
        lo, hi = ranges[k], ranges[k + 1]
        parts.append(_re2_rune(lo) if lo == hi else f"{_re2_rune(lo)}-{_re2_rune(hi)}")
    return "[" + "".join(parts) + "]"


def _re2_literal_rune(r: int, flags: int) -> str:
    if flags & _FOLD_CASE and _MIN_FOLD <= r <= _MAX_FOLD:
        orbit = _fold_orbit(r)
        if len(orbit) > 1:
            return "[" + "".join(_re2_rune(f) for f in sorted(orbit)) + "]"
    return _re2_rune(r)


def _to_re2(root: _Node) -> str:
    """An RE2 pattern matching exactly what Go's parse tree ``root`` matches."""
    out: list[str] = []
    todo: list[_Node | str] = [root]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        op = item.op
        pieces: list[_Node | str]
        if op == _OP_NO_MATCH:
            pieces = [_NO_MATCH_RE2]
        elif op == _OP_EMPTY_MATCH:
            pieces = ["(?:)"]
        elif op == _OP_LITERAL:
            pieces = ["".join(_re2_literal_rune(r, item.flags) for r in item.runes)]
        elif op == _OP_CHAR_CLASS:
            pieces = [_re2_class(item.runes)]
        elif op == _OP_ANY_CHAR_NOT_NL:
            pieces = [_re2_class((0, 0x09, 0x0B, _MAX_RUNE))]
        elif op == _OP_ANY_CHAR:
            pieces = [_re2_class((0, _MAX_RUNE))]
        elif op in _RE2_ASSERTIONS:
            pieces = [_RE2_ASSERTIONS[op]]
        elif op == _OP_CAPTURE:
            pieces = ["(?:", item.sub[0], ")"]
        elif op in (_OP_STAR, _OP_PLUS, _OP_QUEST, _OP_REPEAT):
            if op == _OP_REPEAT and item.max == 0:
                pieces = ["(?:)"]  # x{0} matches the empty string, whatever x is
            else:
                sub = item.sub[0]
                operand: list[_Node | str]
                if sub.op in _ATOMIC_OPS or (sub.op == _OP_LITERAL and len(sub.runes) == 1):
                    operand = [sub]
                else:
                    operand = ["(?:", sub, ")"]
                if op == _OP_STAR:
                    suffix = "*"
                elif op == _OP_PLUS:
                    suffix = "+"
                elif op == _OP_QUEST:
                    suffix = "?"
                elif item.max == -1:
                    suffix = f"{{{item.min},}}"
                elif item.max == item.min:
                    suffix = f"{{{item.min}}}"
                else:
                    suffix = f"{{{item.min},{item.max}}}"
                if item.flags & _NON_GREEDY:
                    suffix += "?"
                pieces = [*operand, suffix]
        elif op == _OP_CONCAT:
            pieces = []
            for sub in item.sub:
                pieces += ["(?:", sub, ")"] if sub.op == _OP_ALTERNATE else [sub]
        elif op == _OP_ALTERNATE:
            pieces = []
            for k, sub in enumerate(item.sub):
                if k:
                    pieces.append("|")
                pieces.append(sub)
        else:  # pragma: no cover - pseudo-ops never survive a successful parse
            raise AssertionError(f"unexpected op {op}")
        todo.extend(reversed(pieces))
    return "".join(out)


def _contains_op(root: _Node, op: int) -> bool:
    todo = [root]
    while todo:
        node = todo.pop()
        if node.op == op:
            return True
        todo.extend(node.sub)
    return False


_RE2_ASSERTIONS: Final = {
    _OP_BEGIN_LINE: "(?m:^)",
    _OP_END_LINE: "(?m:$)",
    _OP_BEGIN_TEXT: "\\A",
    _OP_END_TEXT: "\\z",
    _OP_WORD_BOUNDARY: "\\b",
    _OP_NO_WORD_BOUNDARY: "\\B",
}

# ---------------------------------------------------------------------------
# Public API.
# ---------------------------------------------------------------------------

_RE2_MAX_MEM: Final = 256 << 20


@functools.lru_cache(maxsize=512)
def _syntax_error(pattern: str) -> tuple[str, str] | None:
    try:
        _parse(pattern)
    except GoRegexpError as exc:
        return exc.code, exc.expr
    return None


def check_syntax(pattern: str) -> None:
    """Accept exactly the patterns Go's ``regexp.Compile(pattern)`` accepts.

    Returns ``None`` if Go 1.23 compiles ``pattern``.  Otherwise raises
    :class:`GoRegexpError` carrying Go's error code and the fragment of the
    pattern Go reports, so that ``str(error)`` equals Go's ``err.Error()``.
    Results are cached.
    """
    error = _syntax_error(pattern)
    if error is not None:
        raise GoRegexpError(*error)


class GoRegexp:
    """A pattern Go's ``regexp.Compile`` accepts, ready to match like Go's ``Regexp``.

    ``pattern`` is the source text (as Go's ``String()`` returns it) and
    ``re2_pattern`` the equivalent RE2 pattern the matching is delegated to.
    Instances are immutable and safe to share between threads.
    """

    __slots__ = ("_compiled", "pattern", "re2_pattern")

    pattern: str
    re2_pattern: str

    def __init__(self, pattern: str, re2_pattern: str, compiled: re2._Regexp) -> None:
        self.pattern = pattern
        self.re2_pattern = re2_pattern
        self._compiled = compiled

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text`` (Go's ``MatchString``).

        Unanchored, like Go: ``web`` matches ``myweb-01``; anchors in the pattern
        (``^``, ``$``, ``\\A``, ``\\z``) anchor as in Go.  A lone surrogate in
        ``text`` (an undecodable byte under ``surrogateescape``) matches as
        U+FFFD, as Go matches invalid UTF-8.  Never raises for a ``str``.
        """
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            text = _go_string(text)
            data = "".join("\ufffd" if _is_surrogate(c) else c for c in text).encode("utf-8")
        return self._compiled.search(data) is not None

    def __repr__(self) -> str:
        return f"GoRegexp({self.pattern!r})"


@functools.lru_cache(maxsize=256)
def _compile_cached(pattern: str) -> GoRegexp:
    root = _parse(pattern)
    re2_pattern = _to_re2(root)
    if _contains_op(root, _OP_NO_WORD_BOUNDARY):
        # RE2 tries unanchored matches at every byte offset, and \B holds between two
        # bytes of one multi-byte character; Go tries only character boundaries.
        # Anchoring and skipping whole characters restores Go's positions (every RE2
        # class consumes whole characters, so no other position is reachable).
        re2_pattern = f"\\A{_re2_class((0, _MAX_RUNE))}*?(?:{re2_pattern})"
    import re2  # deferred: importing this module must stay cheap

    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False
    try:
        compiled = re2.compile(re2_pattern.encode("ascii"), options)
    except re2.error as exc:
        raise GoRegexpEngineError(
            f"RE2 cannot build a matcher for {pattern!r} (which Go accepts): {exc}"
        ) from None
    return GoRegexp(pattern, re2_pattern, compiled)


def compile(pattern: str) -> GoRegexp:
    """Go's ``regexp.Compile(pattern)``: a :class:`GoRegexp`, or the error Go gives.

    Raises :class:`GoRegexpError` exactly when :func:`check_syntax` does (the
    same error), and :class:`GoRegexpEngineError` in the unexpected case that
    RE2 cannot fit the matcher for a valid pattern in its memory budget.
    Compiled patterns are cached.
    """
    return _compile_cached(pattern)
