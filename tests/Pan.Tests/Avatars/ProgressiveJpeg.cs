namespace Pan.Tests.Avatars;

/// <summary>
/// Builds a valid progressive grey JPEG of one flat colour with as many scans as asked (up to 896): a DC scan and its 13
/// successive-approximation refinements, then for each AC coefficient in turn its first scan and 13 refinements. Every
/// coefficient is zero, so each scan is a few bits (EOB runs), yet a decoder goes through every block in every scan.
/// </summary>
internal static class ProgressiveJpeg
{
    private const int Bits = 13;

    public const int MostScans = 64 * (Bits + 1);

    public static byte[] Build(int width, int height, int scans)
    {
        if (scans < 1 || scans > MostScans)
        {
            throw new ArgumentOutOfRangeException(nameof(scans));
        }

        var blocks = ((width + 7) / 8) * ((height + 7) / 8);
        var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        // Quantisation table 0: all ones.
        Segment(output, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);
        // SOF2 (progressive): 8 bits, height, width, one component (id 1, 1×1, table 0).
        Segment(output, 0xC2, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]);
        // DC table 0: one symbol (category 0) of one bit, '0'.
        Segment(output, 0xC4, [0x00, 1, .. new byte[15], 0x00]);
        // AC table 0: EOB0..EOB14 (EOB runs), fifteen codes of four bits.
        Segment(output, 0xC4, [0x10, 0, 0, 0, 15, .. new byte[12], .. Enumerable.Range(0, 15).Select(r => (byte)(r << 4))]);

        var written = 0;
        for (var band = 0; band < 64 && written < scans; band++)
        {
            for (var ah = 0; ah <= Bits && written < scans; ah++, written++)
            {
                // First scan at Al = 13, then refinements Ah = 13..1, Al = Ah - 1.
                var (high, low) = ah == 0 ? (0, Bits) : (Bits - ah + 1, Bits - ah);
                Segment(output, 0xDA, [1, 1, 0x00, (byte)band, (byte)band, (byte)((high << 4) | low)]);
                var bits = new BitWriter(output);
                if (band == 0)
                {
                    // DC: a zero difference (first scan) or a zero bit (refinement) per block.
                    for (var i = 0; i < blocks; i++)
                    {
                        bits.Write(0, 1);
                    }
                }
                else
                {
                    // AC: every block ends at once, as EOB runs of at most 32767 blocks.
                    for (var left = blocks; left > 0;)
                    {
                        var run = Math.Min(left, 32767);
                        var r = 31 - int.LeadingZeroCount(run);
                        bits.Write(r, 4);
                        bits.Write(run - (1 << r), r);
                        left -= run;
                    }
                }

                bits.Flush();
            }
        }

        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    private static void Segment(Stream output, byte marker, byte[] body)
    {
        output.Write([0xFF, marker, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2)]);
        output.Write(body);
    }

    private sealed class BitWriter(Stream output)
    {
        private int buffer;
        private int count;

        public void Write(int value, int length)
        {
            for (var i = length - 1; i >= 0; i--)
            {
                buffer = (buffer << 1) | ((value >> i) & 1);
                if (++count == 8)
                {
                    Emit();
                }
            }
        }

        public void Flush()
        {
            while (count != 0)
            {
                Write(1, 1);
            }
        }

        private void Emit()
        {
            output.WriteByte((byte)buffer);
            if (buffer == 0xFF)
            {
                output.WriteByte(0);
            }

            (buffer, count) = (0, 0);
        }
    }
}
