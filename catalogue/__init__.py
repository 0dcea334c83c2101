"""The public work catalogue (公共文化工作目录): what the network offers in a year, fixed and published."""
