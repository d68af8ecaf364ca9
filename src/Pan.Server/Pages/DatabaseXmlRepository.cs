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
internal sealed class DatabaseXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        return db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        db.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}
