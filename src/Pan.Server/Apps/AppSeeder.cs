using Microsoft.Extensions.Options;
using Pan.Server.Data;

namespace Pan.Server.Apps;

/// <summary>
/// At start-up (after the migrator), gives every app of the contract its registry row (<see cref="AppAdministration.EnsureSeededAsync"/>).
/// When migrations are not applied at start-up (<c>Pan:Database:MigrateOnStartup</c> false), the operator's
/// <c>migrate</c> and <c>apps</c> commands seed instead, so a server never touches a schema it did not migrate.
/// </summary>
public sealed class AppSeeder(IServiceProvider services, IOptions<DatabaseOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStartup)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AppAdministration>().EnsureSeededAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
