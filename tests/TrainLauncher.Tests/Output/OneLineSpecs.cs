using TrainLauncher.Output;

namespace TrainLauncher.Tests.Output;

/// <summary>Issue 12: outside text stays on one line, every control character visible.</summary>
public class OneLineSpecs
{
    [Theory]
    [InlineData("plain name.txt", "plain name.txt")]
    [InlineData("файл ü 名前 😀.txt", "файл ü 名前 😀.txt")]
    [InlineData("a\nb", @"a\nb")]
    [InlineData("a\r\n[trainlauncher] exit status 0", @"a\r\n[trainlauncher] exit status 0")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("nul\0byte", @"nul\x00byte")]
    [InlineData("back\\slash\\n", "back\\slash\\n")] // a backslash is text: only what ends or hides a line is escaped
    [InlineData("\x1b[2J\a\x7f", @"\x1b[2J\x07\x7f")]
    [InlineData("next\u0085line", @"next\x85line")]
    [InlineData("sep\u2028par\u2029", @"sep\u2028par\u2029")]
    [InlineData("evil\u202egnp.exe", @"evil\u202egnp.exe")]
    [InlineData("", "")]
    public void Every_control_character_becomes_a_visible_escape(string text, string shown)
    {
        Assert.Equal(shown, OneLine.Escape(text));
    }

    [Fact]
    public void No_character_that_ends_or_hides_a_line_survives()
    {
        var everything = new string(Enumerable.Range(0, 0x10000).Where(i => i is < 0xd800 or > 0xdfff).Select(i => (char)i).ToArray());

        var escaped = OneLine.Escape(everything);

        Assert.DoesNotContain(escaped, c => char.IsControl(c) || c is '\u2028' or '\u2029');
    }

    [Fact]
    public void A_lone_surrogate_is_escaped_and_a_pair_is_kept()
    {
        // Built in code: attribute arguments cannot carry a lone surrogate.
        var text = "lone" + (char)0xd800 + "half" + (char)0xdc00 + "😀";

        Assert.Equal(@"lone\ud800half\udc00😀", OneLine.Escape(text));
    }

    [Fact]
    public void Safe_text_is_returned_as_it_is()
    {
        const string text = "obs://bucket/jobs/app/train.py";
        Assert.Same(text, OneLine.Escape(text));
        Assert.Equal("", OneLine.Escape(null));
    }
}
