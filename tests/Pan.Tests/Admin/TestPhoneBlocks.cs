using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Server.PhoneBlocks;
using Pan.Server.Phones;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Admin;

/// <summary>Blocks and unblocks phone numbers for the suites of the ways in, through the service the admin API and the CLI use.</summary>
public static class TestPhoneBlocks
{
    /// <summary>Blocks <paramref name="e164"/> until <paramref name="expires"/> (null: until unblocked), on <paramref name="server"/>.</summary>
    public static async Task BlockAsync(PanServer server, string e164, DateTimeOffset? expires = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var phone = scope.ServiceProvider.GetRequiredService<PhoneNumbers>().FromE164(e164) ?? throw new ArgumentException("not E.164", nameof(e164));
        await using var transaction = await db.Database.BeginTransactionAsync();
        await scope.ServiceProvider.GetRequiredService<PhoneBlocks>().BlockAsync(phone, "SMS pumping", expires, "tests", default);
        await transaction.CommitAsync();
    }

    /// <summary>Lifts the block of <paramref name="e164"/> on <paramref name="server"/>.</summary>
    public static async Task UnblockAsync(PanServer server, string e164)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var phone = scope.ServiceProvider.GetRequiredService<PhoneNumbers>().FromE164(e164) ?? throw new ArgumentException("not E.164", nameof(e164));
        await using var transaction = await db.Database.BeginTransactionAsync();
        Assert.True(await scope.ServiceProvider.GetRequiredService<PhoneBlocks>().UnblockAsync(phone, default));
        await transaction.CommitAsync();
    }
}

/// <summary>
/// A block of a number stopped just before its commit (<see cref="PhoneBlocks.BlockAsync"/> has run in one open
/// transaction, which holds what it took until <see cref="UncommittedChange.CommitAsync"/>), so that a test can run
/// another operation on the number exactly then. Disposing without committing rolls it back.
/// </summary>
public sealed class UncommittedBlock : UncommittedChange
{
    private UncommittedBlock(PanServer server, ITestDatabase database)
        : base(server, database)
    {
    }

    public static async Task<UncommittedBlock> StartAsync(PanServer server, ITestDatabase database, string e164)
    {
        var block = new UncommittedBlock(server, database);
        await block.BeginAsync();
        var phone = block.Scope.ServiceProvider.GetRequiredService<PhoneNumbers>().FromE164(e164) ?? throw new ArgumentException("not E.164", nameof(e164));
        await block.Scope.ServiceProvider.GetRequiredService<PhoneBlocks>().BlockAsync(phone, "SMS pumping", null, "tests", default);
        return block;
    }
}
