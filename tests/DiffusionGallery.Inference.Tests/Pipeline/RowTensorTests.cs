using DiffusionGallery.Inference.Pipeline;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>fp16 rows: what the graph reads after <c>Upload</c> and what the pipeline reads after <c>Download</c>.</summary>
public sealed class RowTensorTests
{
    private static readonly float[] Values = [0f, 1f, -2.5f, 0.1f, 65504f, -1e-5f, 3.14159f, 1e6f, float.NaN, 7.75f, -0.333f, 1024.5f];

    [Fact]
    public void Float16_Upload_WritesTheRowsInUseAsOnnxRuntimesFloat16()
    {
        using var tensor = new RowTensor(TensorElementType.Float16, capacity: 4, rowShape: [3]);
        Values.CopyTo(tensor.Data, 0);

        tensor.Upload(rows: 3); // 9 of the 12 values

        var graphSees = tensor.View(3).GetTensorDataAsSpan<Float16>();
        Assert.Equal(9, graphSees.Length);
        for (var i = 0; i < 9; i++)
        {
            var expected = (Float16)Values[i]; // ONNX Runtime's own conversion
            Assert.True(expected.Equals(graphSees[i]) || (float.IsNaN(Values[i]) && float.IsNaN((float)graphSees[i])),
                $"element {i}: {(float)graphSees[i]} for {Values[i]} (expected {(float)expected})");
        }
        Assert.Equal(default, tensor.View(4).GetTensorDataAsSpan<Float16>()[9]); // rows beyond were not converted
    }

    [Fact]
    public void Float16_Download_ReadsWhatTheGraphWrote()
    {
        using var tensor = new RowTensor(TensorElementType.Float16, capacity: 2, rowShape: [2, 3]);
        var written = tensor.View(2).GetTensorMutableDataAsSpan<Float16>();
        for (var i = 0; i < 12; i++)
            written[i] = (Float16)(i * 0.5f - 2f);

        tensor.Download(rows: 2);

        Assert.Equal(Enumerable.Range(0, 12).Select(i => i * 0.5f - 2f), tensor.Data);
    }

    [Fact]
    public void Float16_UploadOfSomeRows_ConvertsOnlyThem_AndTheirTypedBytesStartAtTheirOffset()
    {
        using var tensor = new RowTensor(TensorElementType.Float16, capacity: 4, rowShape: [3]);
        Values.CopyTo(tensor.Data, 0);

        tensor.Upload(firstRow: 1, count: 2); // rows 1–2: values 3–8

        var graphSees = tensor.View(4).GetTensorDataAsSpan<Float16>();
        for (var i = 0; i < 12; i++)
        {
            var expected = i is >= 3 and < 9 ? (Float16)Values[i] : default;
            Assert.True(expected.Equals(graphSees[i]) || (float.IsNaN(Values[i]) && float.IsNaN((float)graphSees[i])), $"element {i}");
        }

        var bytes = tensor.TypedBytes(new RowRange(1, 2));
        Assert.Equal(6 * 2, bytes.Length);
        Assert.Equal(3 * 2, tensor.ByteOffset(1));
        Assert.True(bytes.SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(graphSees.Slice(3, 6))));
    }
}
