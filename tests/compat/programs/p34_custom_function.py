# A custom autograd.Function with static forward/backward, called with .apply.
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class ScaleBy(torch.autograd.Function):
    @staticmethod
    def forward(x, factor):
        return x * factor

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.factor = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


x = torch.linspace(-1, 1, 5, requires_grad=True)
y = MyReLU.apply(x)
y.sum().backward()
print(y, x.grad)
x.grad = None
P3 = LegendrePolynomial3.apply
z = P3(x)
z.sum().backward()
print(z, x.grad)
x.grad = None
ScaleBy.apply(x, 3.0).sum().backward()
print(x.grad)
xd = torch.linspace(-1, 1, 5, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(LegendrePolynomial3.apply, (xd,)))
