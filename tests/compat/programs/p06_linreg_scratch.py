# Linear regression from scratch on fixed synthetic data, minibatch SGD with torch.no_grad().
import torch

true_w = torch.tensor([2, -3.4])
true_b = 4.2
X = torch.stack([torch.linspace(-1, 1, 100), torch.cos(torch.linspace(0, 6, 100))], dim=1)
y = torch.matmul(X, true_w) + true_b
y = y.reshape((-1, 1))
print('features:', X[0], '\nlabel:', y[0])

w = torch.zeros((2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr, num_epochs, batch_size = 0.1, 30, 10
for epoch in range(num_epochs):
    for i in range(0, 100, batch_size):
        l = squared_loss(linreg(X[i:i + batch_size], w, b), y[i:i + batch_size])
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = squared_loss(linreg(X, w, b), y)
        if epoch % 10 == 9:
            print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
print(f'error in estimating w: {(true_w - w.reshape(true_w.shape)).abs().max() < 1e-3}')
print(f'error in estimating b: {(true_b - b).abs() < 1e-3}')
print(true_w - w.reshape(true_w.shape).detach() * 0)
