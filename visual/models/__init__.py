"""Model definitions: dilated ResNet backbones and PSPNet."""
