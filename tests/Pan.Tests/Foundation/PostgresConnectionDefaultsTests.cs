using Npgsql;
using Pan.Server.Data;

namespace Pan.Tests.Foundation;

public sealed class PostgresConnectionDefaultsTests
{
    [Fact]
    public void Unset_settings_get_auto_prepare_and_no_reset()
    {
        var applied = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply("Host=db;Database=pan;Username=pan"));

        Assert.Equal(PostgresConnectionDefaults.MaxAutoPrepare, applied.MaxAutoPrepare);
        Assert.Equal(2, applied.AutoPrepareMinUsages);
        Assert.True(applied.NoResetOnClose);
        Assert.Equal("db", applied.Host);
        Assert.Equal("pan", applied.Database);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0;No Reset On Close=false", 0, false)]
    [InlineData("Host=db;MaxAutoPrepare=7;NoResetOnClose=false", 7, false)]
    [InlineData("Host=db;max auto prepare=5", 5, true)]
    public void Settings_the_operator_gave_are_kept(string given, int maxAutoPrepare, bool noResetOnClose)
    {
        var applied = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply(given));

        Assert.Equal(maxAutoPrepare, applied.MaxAutoPrepare);
        Assert.Equal(noResetOnClose, applied.NoResetOnClose);
    }
}
