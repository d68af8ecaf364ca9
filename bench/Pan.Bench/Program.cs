using Pan.Bench;

var options = CommandLine.Parse(args, Console.Error);
if (options is null)
{
    return 2;
}

var report = await BenchRunner.RunAsync(options, "dotnet run -c Release --project bench/Pan.Bench -- " + string.Join(' ', args), Console.Out);
return report.Runs.Any(r => r.Failure is not null) ? 1 : 0;
