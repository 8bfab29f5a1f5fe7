using DiffusionGallery.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Tests.Onnx;

public sealed class TensorBufferTests
{
    [Fact]
    public void Float_SharesMemoryWithTheOrtValue()
    {
        using var buffer = new TensorBuffer(TensorElementType.Float, [2, 3]);
        buffer.Data[4] = 2.5f;

        Assert.Equal(2.5f, buffer.Value.GetTensorDataAsSpan<float>()[4]);
        Assert.Equal([2L, 3L], buffer.Value.GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void Float16_IsConvertedOnUploadAndBackOnDownload()
    {
        using var buffer = new TensorBuffer(TensorElementType.Float16, [4]);
        float[] values = [0.5f, -1.25f, 1000f, 0.1f];
        values.CopyTo(buffer.Data);

        buffer.Upload();
        Array.Clear(buffer.Data);
        var half = buffer.Value.GetTensorMutableDataAsSpan<Float16>();
        Assert.Equal(-1.25f, (float)half[1]);
        half[0] = (Float16)3f;
        buffer.Download();

        Assert.Equal(3f, buffer.Data[0]);
        Assert.Equal(0.1f, buffer.Data[3], 3);
        Assert.Equal(TensorElementType.Float16, buffer.Value.GetTensorTypeAndShape().ElementDataType);
    }

    [Fact]
    public void Int64AndInt32_RoundOnUpload()
    {
        using var timestep = new TensorBuffer(TensorElementType.Int64, []);
        using var ids = new TensorBuffer(TensorElementType.Int32, [1, 2]);
        timestep.Data[0] = 957.6f;
        ids.Data[0] = 49407f;
        ids.Data[1] = 320f;

        timestep.Upload();
        ids.Upload();

        Assert.Equal(958L, timestep.Value.GetTensorDataAsSpan<long>()[0]);
        Assert.Empty(timestep.Value.GetTensorTypeAndShape().Shape);
        Assert.Equal([49407, 320], ids.Value.GetTensorDataAsSpan<int>().ToArray());
    }

    [Fact]
    public void ReadFloats_ConvertsHalfOutputs()
    {
        using var value = OrtValue.CreateTensorValueFromMemory(new[] { (Float16)1.5f, (Float16)(-2f) }, [2]);

        Assert.Equal([1.5f, -2f], TensorBuffer.ReadFloats(value));
    }
}
