using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// A gRPC compression provider whose decompression refuses a compressed request message that does not decompress
/// (not gzip, a corrupt block) with INVALID_ARGUMENT, instead of grpc-dotnet's UNKNOWN and Error log line (SECURITY 17).
/// Compression passes through unchanged.
/// </summary>
/// <remarks>
/// Why a provider: grpc-dotnet decompresses the message while reading its frame, before any Pan code runs; the
/// decompression stream is the one piece of that it takes from the application. An <see cref="RpcException"/>
/// thrown there reaches the caller as its status and is logged at Information.
/// </remarks>
public sealed class GuardedDecompression(ICompressionProvider inner) : ICompressionProvider
{
    public string EncodingName => inner.EncodingName;

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        inner.CreateCompressionStream(stream, compressionLevel);

    public Stream CreateDecompressionStream(Stream stream) => new Refusing(inner.CreateDecompressionStream(stream));

    private sealed class Refusing(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (InvalidDataException)
            {
                throw PanError.Plain(StatusCode.InvalidArgument, "INVALID_ARGUMENT", "A compressed request message could not be decompressed.");
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
