using System.Globalization;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Pages;

namespace Pan.Server.Pages;

/// <summary>
/// Keeps the Data Protection key ring (which protects the pages' antiforgery tokens) in the database, so every node
/// shares it and a form served by one node can be posted to another. Why not the default folder: nodes would each make
/// their own keys and refuse each other's forms. The master keys inside the XML are wrapped with
/// <c>Pan:Keys:EncryptionKey</c> by <see cref="Keys.DataProtectionKeyEncryptor"/> when it is set.
/// </summary>
/// <remarks>
/// One key per period: a key whose activation falls while a stored, unrevoked key is already active (allowing the ring's
/// five minutes of clock skew) is not stored. Why: nodes loading the ring at once on a store with no usable key each
/// make one, and a node that read the ring back before the other's key was stored would hold only its own and refuse
/// the other's forms until its ring is next read (24 h); refused, the later node reads the ring back and takes the key
/// stored first. The check and the insert run in one transaction, ordered on PostgreSQL by a transaction-level advisory
/// lock (SQLite's transaction holds the database's write lock).
/// </remarks>
internal sealed class DatabaseXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    private const string LockKey = "pan:data-protection-keys";

    /// <summary>The ring's allowance for clocks of nodes that disagree (Data Protection's default key resolver's).</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private static readonly XNamespace None = XNamespace.None;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        return db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        using var transaction = db.Database.BeginTransaction();
        if (db.Database.IsNpgsql())
        {
            db.Database.ExecuteSql($"SELECT pg_advisory_xact_lock(hashtextextended({LockKey}, 0))");
        }

        if (Period(element) is { } added)
        {
            var stored = db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(x => XElement.Parse(x)).ToList();
            if (ActiveKeys(stored).Any(k => k.Activation <= added.Activation + ClockSkew && k.Expiration > added.Activation))
            {
                return;
            }
        }

        db.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
        transaction.Commit();
    }

    private sealed record KeyPeriod(Guid Id, DateTimeOffset Creation, DateTimeOffset Activation, DateTimeOffset Expiration);

    /// <summary>The id and dates of a key element; null for anything else (a revocation) or a key it cannot read.</summary>
    private static KeyPeriod? Period(XElement element)
    {
        if (element.Name != None + "key"
            || !Guid.TryParse((string?)element.Attribute("id"), out var id)
            || !TryDate(element, "creationDate", out var creation)
            || !TryDate(element, "activationDate", out var activation)
            || !TryDate(element, "expirationDate", out var expiration))
        {
            return null;
        }

        return new KeyPeriod(id, creation, activation, expiration);
    }

    /// <summary>The stored keys no stored revocation ends (by id, or every key made before a revocation of all).</summary>
    private static IEnumerable<KeyPeriod> ActiveKeys(List<XElement> stored)
    {
        var revokedIds = new HashSet<Guid>();
        var revokedBefore = DateTimeOffset.MinValue;
        foreach (var revocation in stored.Where(e => e.Name == None + "revocation"))
        {
            var target = (string?)revocation.Element(None + "key")?.Attribute("id");
            if (target == "*")
            {
                if (TryDate(revocation, "revocationDate", out var date) && date > revokedBefore)
                {
                    revokedBefore = date;
                }
            }
            else if (Guid.TryParse(target, out var revokedId))
            {
                revokedIds.Add(revokedId);
            }
        }

        return stored.Select(Period).OfType<KeyPeriod>().Where(k => !revokedIds.Contains(k.Id) && k.Creation > revokedBefore);
    }

    private static bool TryDate(XElement element, string name, out DateTimeOffset value) =>
        DateTimeOffset.TryParse((string?)element.Element(None + name), CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
}
