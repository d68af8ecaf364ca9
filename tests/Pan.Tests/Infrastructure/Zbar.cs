using System.Diagnostics;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// Reads QR codes and barcodes out of PNGs with Debian's <c>zbarimg</c> (package zbar-tools, installed by
/// tools/ensure-packages.sh): an independent decoder, so a test proves what a real scanner would read.
/// </summary>
public static class Zbar
{
    /// <summary>The text of every symbol found in the image, in zbarimg's order; fails the test when zbarimg is missing or finds none.</summary>
    public static async Task<IReadOnlyList<string>> DecodeAsync(byte[] png)
    {
        var file = Path.Combine(Path.GetTempPath(), $"pan-zbar-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(file, png);
        try
        {
            var start = new ProcessStartInfo("zbarimg", ["--quiet", "--raw", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("zbarimg did not start.");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"zbarimg exited with {process.ExitCode} (4 = no symbol found): {await error}");
            return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("zbarimg is not installed; run tools/ensure-packages.sh (Debian package zbar-tools).", ex);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The one symbol in the image.</summary>
    public static async Task<string> DecodeOneAsync(byte[] png) => Assert.Single(await DecodeAsync(png));
}
