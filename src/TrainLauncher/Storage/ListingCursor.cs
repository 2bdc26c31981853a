using System.Text;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// Follows a ListObjectsV2 listing page by page and refuses one that would never end: a
/// continuation token sent back unchanged, a truncated page without a token, a page whose last
/// key is not past the previous page's (S3 lists in UTF-8 byte order, so a listing that moves
/// on always moves forward), or too many empty pages in a row. Memory is one key, whatever the
/// size of the listing. Pure: no I/O, so listings can be fuzzed through it directly.
/// </summary>
internal sealed class ListingCursor(ObjectUrl source)
{
    /// <summary>Empty truncated pages tolerated in a row (S3 may send a few; a loop sends them for ever).</summary>
    public const int MaxEmptyPagesInARow = 100;

    private string? lastKey;
    private int emptyPages;

    /// <summary>The token to send for the next page; null before the second page.</summary>
    public string? Token { get; private set; }

    /// <summary>True once a page said the listing is complete.</summary>
    public bool Done { get; private set; }

    /// <summary>
    /// Takes the next page: its truncation flag, its next token and the keys it listed (in
    /// order). Throws <see cref="ObjectStoreException"/> with one line when the listing cannot
    /// go on.
    /// </summary>
    public void Advance(bool? isTruncated, string? nextToken, IReadOnlyList<string> keys)
    {
        if (Done) throw new InvalidOperationException("the listing is already complete");
        bool truncated = isTruncated == true;
        if (truncated && string.IsNullOrEmpty(nextToken))
            throw Fail("the store said the listing goes on (IsTruncated) but sent no continuation token");
        if (truncated && nextToken == Token)
            throw Fail($"the store sent continuation token '{OneLine.Escape(nextToken)}' twice; the listing would never end");
        if (keys.Count > 0)
        {
            var last = keys[^1];
            if (lastKey is not null && CompareUtf8(last, lastKey) <= 0)
                throw Fail($"the store listed '{OneLine.Escape(last)}' after '{OneLine.Escape(lastKey)}'; a listing only goes forward");
            lastKey = last;
            emptyPages = 0;
        }
        else if (truncated && ++emptyPages > MaxEmptyPagesInARow)
        {
            throw Fail($"the store sent {MaxEmptyPagesInARow} empty pages in a row; the listing does not move on");
        }
        Done = !truncated;
        Token = truncated ? nextToken : Token;
    }

    private ObjectStoreException Fail(string why) => new($"cannot list {source}: {why}");

    /// <summary>Orders as S3 does: by the UTF-8 bytes (UTF-16 order differs above U+FFFF).</summary>
    private static int CompareUtf8(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            bool ha = ea.MoveNext(), hb = eb.MoveNext();
            if (!ha || !hb) return ha.CompareTo(hb);
            int c = ea.Current.Value.CompareTo(eb.Current.Value); // code point order is UTF-8 byte order
            if (c != 0) return c;
        }
    }
}
