namespace Pan.Contract.Tests;

/// <summary>Collects every mismatch of a check so one failing run lists them all.</summary>
internal sealed class Mismatches
{
    private readonly List<string> _items = [];

    public void Add(string item) => _items.Add(item);

    /// <param name="what">What was compared, e.g. "message".</param>
    /// <param name="against">What it was compared against; by default the seed document.</param>
    public void AssertNone(string what, string? against = null)
    {
        if (_items.Count > 0)
        {
            against ??= $"the contract seed ({Seed.SeedDocument.RelativePath})";
            Assert.Fail(
                $"{_items.Count} {what} mismatch(es) against {against}:{Environment.NewLine}  - " +
                string.Join(Environment.NewLine + "  - ", _items));
        }
    }
}
